namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Greater with broadcasting.</summary>
internal sealed class Greater(GraphNode node) : BinaryOperator<Greater.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => 0;
        public static long L(long a, long b) => 0;
        public static bool Compare => true;
        public static bool CF(float a, float b) => a > b;
        public static bool CL(long a, long b) => a > b;
    }
}
