namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Relu, elementwise.</summary>
internal sealed class Relu(GraphNode node) : UnaryOperator<Relu.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => x > 0 ? x : 0;
        public static bool HasLong => true;
        public static long L(long x) => x > 0 ? x : 0;
    }
}
