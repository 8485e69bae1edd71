namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Sum over any number of inputs with broadcasting.</summary>
internal sealed class Sum(GraphNode node) : VariadicOperator<Sum.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => a + b;
        public static long L(long a, long b) => a + b;
    }
}
