namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Div with broadcasting.</summary>
internal sealed class Div(GraphNode node) : BinaryOperator<Div.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => a / b;
        public static long L(long a, long b) => b == 0 ? 0 : a / b;
    }
}
