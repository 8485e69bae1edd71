namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Ceil, elementwise.</summary>
internal sealed class Ceil(GraphNode node) : UnaryOperator<Ceil.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => MathF.Ceiling(x);
    }
}
