namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Log, elementwise.</summary>
internal sealed class Log(GraphNode node) : UnaryOperator<Log.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => MathF.Log(x);
    }
}
