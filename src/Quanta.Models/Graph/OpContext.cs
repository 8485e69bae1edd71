namespace Quanta.Models.Graph;

/// <summary>Inputs and output allocation for one operator call.</summary>
internal sealed class OpContext
{
    private readonly GraphTensor?[] _inputs;
    private readonly GraphTensor?[] _outputs;
    private readonly Func<int, TensorElementType, int[], GraphTensor> _allocate;

    public OpContext(GraphNode node, GraphTensor?[] inputs, GraphTensor?[] outputs, Func<int, TensorElementType, int[], GraphTensor> allocate)
    {
        Node = node;
        _inputs = inputs;
        _outputs = outputs;
        _allocate = allocate;
    }

    public GraphNode Node { get; }
    public int InputCount => _inputs.Length;
    public int OutputCount => _outputs.Length;

    /// <summary>Input <paramref name="i"/>; throws naming the node when it is absent.</summary>
    public GraphTensor Input(int i) =>
        i < _inputs.Length && _inputs[i] is { } t ? t : throw new GraphException($"{Node.Describe}: required input {i} is missing");

    /// <summary>Input <paramref name="i"/> or null when omitted.</summary>
    public GraphTensor? Optional(int i) => i < _inputs.Length ? _inputs[i] : null;

    /// <summary>Whether output <paramref name="i"/> is wanted (named) by the graph.</summary>
    public bool Wants(int i) => i < _outputs.Length && Node.Outputs[i].Length > 0;

    /// <summary>Allocates output <paramref name="i"/> (from the planned buffer pool, contents undefined).</summary>
    public GraphTensor Output(int i, TensorElementType type, int[] shape)
    {
        var t = _allocate(i, type, shape);
        _outputs[i] = t;
        return t;
    }

    public GraphTensor OutputF(int i, int[] shape) => Output(i, TensorElementType.Float32, shape);
}

/// <summary>Input shapes and known constant values for shape inference.</summary>
internal sealed class ShapeContext
{
    public ShapeContext(int[]?[] shapes, GraphTensor?[] constants)
    {
        Shapes = shapes;
        Constants = constants;
    }

    public int[]?[] Shapes { get; }
    public GraphTensor?[] Constants { get; }
    public int[]? Shape(int i) => i < Shapes.Length ? Shapes[i] : null;
    public GraphTensor? Constant(int i) => i < Constants.Length ? Constants[i] : null;
}
