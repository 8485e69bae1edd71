namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Exp, elementwise.</summary>
internal sealed class Exp(GraphNode node) : UnaryOperator<Exp.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => MathF.Exp(x);
    }
}
