namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Floor, elementwise.</summary>
internal sealed class Floor(GraphNode node) : UnaryOperator<Floor.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => MathF.Floor(x);
    }
}
