namespace Quanta.Models.Graph;

/// <summary>
/// Inputs and output allocation for one operator call. A session builds one per node and plan and reuses it run after
/// run (inputs and outputs are reset in place); folding builds throwaway ones. Outputs come from the planned buffer
/// pool slot of the value when it has one, else are freshly allocated.
/// </summary>
internal sealed class OpContext
{
    private readonly GraphTensor?[] _inputs;
    private readonly GraphTensor?[] _outputs;
    private readonly int[]? _slots;          // pool slot per output, -1: fresh
    private readonly BufferPool? _pool;
    private readonly bool[]? _constant;      // per input: a constant of the plan

    /// <summary>A context allocating every output fresh (load-time folding); no input counts as constant.</summary>
    public OpContext(GraphNode node, GraphTensor?[] inputs, GraphTensor?[] outputs)
    {
        Node = node;
        _inputs = inputs;
        _outputs = outputs;
    }

    /// <summary>A reusable context of a plan: outputs with a slot come from <paramref name="pool"/>.</summary>
    public OpContext(GraphNode node, int[] slots, BufferPool pool, bool[] constant)
    {
        Node = node;
        _inputs = new GraphTensor?[node.Inputs.Length];
        _outputs = new GraphTensor?[node.Outputs.Length];
        _slots = slots;
        _pool = pool;
        _constant = constant;
    }

    public GraphNode Node { get; }
    public int InputCount => _inputs.Length;
    public int OutputCount => _outputs.Length;
    internal GraphTensor?[] Inputs => _inputs;
    internal GraphTensor?[] Outputs => _outputs;

    /// <summary>Input <paramref name="i"/>; throws naming the node when it is absent.</summary>
    public GraphTensor Input(int i) =>
        i < _inputs.Length && _inputs[i] is { } t ? t : throw new GraphException($"{Node.Describe}: required input {i} is missing");

    /// <summary>Input <paramref name="i"/> or null when omitted.</summary>
    public GraphTensor? Optional(int i) => i < _inputs.Length ? _inputs[i] : null;

    /// <summary>
    /// Whether input <paramref name="i"/> is a constant of the running plan (an initializer or a folded value): the same
    /// tensor object with the same contents on every run, so operators may cache work derived from it (packed weights).
    /// </summary>
    public bool IsConstant(int i) => _constant is not null && i < _constant.Length && _constant[i];

    /// <summary>Whether output <paramref name="i"/> is wanted (named) by the graph.</summary>
    public bool Wants(int i) => i < _outputs.Length && Node.Outputs[i].Length > 0;

    /// <summary>Allocates output <paramref name="i"/> (from the planned buffer pool, contents undefined).</summary>
    public GraphTensor Output(int i, TensorElementType type, int[] shape)
    {
        GraphTensor t;
        if (_slots is not null && _slots[i] >= 0 && _pool is not null)
        {
            int n = GraphTensor.SizeOf(shape);
            t = _pool.Get(_slots[i], type, shape, n);
        }
        else t = GraphTensor.Create(type, shape);
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
