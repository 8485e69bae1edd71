namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Equal with broadcasting.</summary>
internal sealed class Equal(GraphNode node) : BinaryOperator<Equal.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => 0;
        public static long L(long a, long b) => 0;
        public static bool Compare => true;
        public static bool CF(float a, float b) => a == b;
        public static bool CL(long a, long b) => a == b;
        public static bool CB(bool a, bool b) => a == b;
    }
}
