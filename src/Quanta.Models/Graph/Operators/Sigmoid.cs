namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Sigmoid, elementwise.</summary>
internal sealed class Sigmoid(GraphNode node) : UnaryOperator<Sigmoid.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => x >= 0 ? 1f / (1f + MathF.Exp(-x)) : MathF.Exp(x) / (1f + MathF.Exp(x));
    }
}
