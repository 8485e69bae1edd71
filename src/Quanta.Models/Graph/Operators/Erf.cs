namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Erf, elementwise.</summary>
internal sealed class Erf(GraphNode node) : UnaryOperator<Erf.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => ErfFunction.Erf(x);
    }
}
