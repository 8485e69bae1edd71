namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Abs, elementwise.</summary>
internal sealed class Abs(GraphNode node) : UnaryOperator<Abs.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => MathF.Abs(x);
        public static bool HasLong => true;
        public static long L(long x) => Math.Abs(x);
    }
}
