namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Max over any number of inputs with broadcasting.</summary>
internal sealed class Max(GraphNode node) : VariadicOperator<Max.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : Math.Max(a, b);
        public static long L(long a, long b) => Math.Max(a, b);
    }
}
