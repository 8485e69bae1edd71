namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Pow with broadcasting.</summary>
internal sealed class Pow(GraphNode node) : BinaryOperator<Pow.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => MathF.Pow(a, b);
        public static long L(long a, long b) => (long)Math.Pow(a, b);
        public static bool MixedTypes => true;
    }
}
