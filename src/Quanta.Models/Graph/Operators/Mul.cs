namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Mul with broadcasting.</summary>
internal sealed class Mul(GraphNode node) : BinaryOperator<Mul.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => a * b;
        public static long L(long a, long b) => a * b;
    }
}
