namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Add with broadcasting.</summary>
internal sealed class Add(GraphNode node) : BinaryOperator<Add.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => a + b;
        public static long L(long a, long b) => a + b;
    }
}
