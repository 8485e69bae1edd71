namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Tanh, elementwise.</summary>
internal sealed class Tanh(GraphNode node) : UnaryOperator<Tanh.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => MathF.Tanh(x);
    }
}
