namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Reciprocal, elementwise.</summary>
internal sealed class Reciprocal(GraphNode node) : UnaryOperator<Reciprocal.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => 1f / x;
    }
}
