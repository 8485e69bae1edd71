namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Min over any number of inputs with broadcasting.</summary>
internal sealed class Min(GraphNode node) : VariadicOperator<Min.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : Math.Min(a, b);
        public static long L(long a, long b) => Math.Min(a, b);
    }
}
