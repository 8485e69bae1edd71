using Quanta.Models.Graph.Operators;

namespace Quanta.Models.Graph;

/// <summary>Maps ONNX op types (default domain) and the internal fused types (domain "quanta") to operator constructors.</summary>
internal static class OperatorRegistry
{
    private static readonly Dictionary<string, Func<GraphNode, long, GraphOperator>> s_ops = new(StringComparer.Ordinal)
    {
        ["Add"] = (n, _) => new Add(n), ["Sub"] = (n, _) => new Sub(n), ["Mul"] = (n, _) => new Mul(n), ["Div"] = (n, _) => new Div(n),
        ["Pow"] = (n, _) => new Pow(n), ["Equal"] = (n, _) => new Equal(n), ["Less"] = (n, _) => new Less(n), ["Greater"] = (n, _) => new Greater(n),
        ["LessOrEqual"] = (n, _) => new LessOrEqual(n), ["GreaterOrEqual"] = (n, _) => new GreaterOrEqual(n),
        ["Sum"] = (n, _) => new Sum(n), ["Min"] = (n, _) => new Min(n), ["Max"] = (n, _) => new Max(n),
        ["Relu"] = (n, _) => new Relu(n), ["Neg"] = (n, _) => new Neg(n), ["Abs"] = (n, _) => new Abs(n), ["Sqrt"] = (n, _) => new Sqrt(n),
        ["Exp"] = (n, _) => new Exp(n), ["Log"] = (n, _) => new Log(n), ["Tanh"] = (n, _) => new Tanh(n), ["Sigmoid"] = (n, _) => new Sigmoid(n),
        ["Reciprocal"] = (n, _) => new Reciprocal(n), ["Floor"] = (n, _) => new Floor(n), ["Ceil"] = (n, _) => new Ceil(n), ["Erf"] = (n, _) => new Erf(n),
        ["Not"] = (n, _) => new Not(n), ["Identity"] = (n, _) => new Identity(n), ["Dropout"] = (n, _) => new Identity(n), ["Clip"] = (n, _) => new Clip(n),
        ["Where"] = (n, _) => new Where(n), ["Cast"] = (n, _) => new Cast(n), ["CastLike"] = (n, _) => new Cast(n), ["Shape"] = (n, _) => new Operators.Shape(n),
        ["Size"] = (n, _) => new Size(n), ["Constant"] = (n, _) => new Constant(n), ["ConstantOfShape"] = (n, _) => new ConstantOfShape(n),
        ["Range"] = (n, _) => new Operators.Range(n), ["Reshape"] = (n, _) => new Reshape(n), ["Flatten"] = (n, _) => new Flatten(n),
        ["Unsqueeze"] = (n, _) => new Unsqueeze(n), ["Squeeze"] = (n, _) => new Squeeze(n), ["Transpose"] = (n, _) => new Transpose(n),
        ["Concat"] = (n, _) => new Concat(n), ["Slice"] = (n, _) => new Slice(n), ["Gather"] = (n, _) => new Gather(n), ["Expand"] = (n, _) => new Expand(n),
        ["Tile"] = (n, _) => new Tile(n), ["Split"] = (n, _) => new Split(n), ["Pad"] = (n, _) => new Pad(n),
        ["Softmax"] = (n, o) => new Softmax(n, o), ["LogSoftmax"] = (n, o) => new Softmax(n, o), ["LayerNormalization"] = (n, _) => new LayerNormalization(n),
        ["ReduceMean"] = (n, _) => new Reduce(n), ["ReduceSum"] = (n, _) => new Reduce(n), ["ReduceMax"] = (n, _) => new Reduce(n), ["ReduceMin"] = (n, _) => new Reduce(n),
        ["MatMul"] = (n, _) => new MatMul(n), ["Gemm"] = (n, _) => new Gemm(n), ["Conv"] = (n, _) => new Conv(n),
        ["MaxPool"] = (n, _) => new Pool(n), ["AveragePool"] = (n, _) => new Pool(n),
        ["GlobalAveragePool"] = (n, _) => new GlobalAveragePool(n), ["GlobalMaxPool"] = (n, _) => new GlobalAveragePool(n),
        ["BatchNormalization"] = (n, _) => new BatchNormalization(n), ["Resize"] = (n, _) => new Resize(n), ["Upsample"] = (n, _) => new Resize(n),
        ["Gelu"] = (n, _) => new Gelu(n), ["DequantizeLinear"] = (n, _) => new DequantizeLinear(n),
    };

    /// <summary>Op types of the default domain the executor runs.</summary>
    public static IReadOnlyCollection<string> Supported => s_ops.Keys;

    public static bool IsSupported(string opType) => s_ops.ContainsKey(opType);

    public static GraphOperator Create(GraphNode node, long opset)
    {
        if (node.Domain == GraphSession.InternalDomain && node.OpType == "MatMulAdd") return new MatMul(node);
        if (node.Domain == GraphSession.InternalDomain && node.OpType == "MaskedSoftmax") return new MaskedSoftmax(node);
        if (node.Domain == GraphSession.InternalDomain && node.OpType == "AddLayerNormalization") return new AddLayerNormalization(node);
        if (node.Domain == GraphSession.InternalDomain && node.OpType == "Attention") return new Attention(node);
        if (node.Domain is not ("" or "ai.onnx" or GraphSession.InternalDomain))
            throw new GraphException($"unsupported operator {node.OpType} (domain '{node.Domain}') in node '{node.Name}'");
        if (!s_ops.TryGetValue(node.OpType, out var make))
            throw new GraphException($"unsupported operator {node.OpType} in node '{node.Name}'");
        return make(node, opset);
    }
}
