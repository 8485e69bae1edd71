namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Sqrt, elementwise.</summary>
internal sealed class Sqrt(GraphNode node) : UnaryOperator<Sqrt.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => MathF.Sqrt(x);
    }
}
