namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Sub with broadcasting.</summary>
internal sealed class Sub(GraphNode node) : BinaryOperator<Sub.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => a - b;
        public static long L(long a, long b) => a - b;
    }
}
