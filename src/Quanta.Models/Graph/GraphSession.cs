using System.Diagnostics;
using Quanta.Core.ModelFiles.Onnx;

namespace Quanta.Models.Graph;

/// <summary>Options of <see cref="GraphSession"/>.</summary>
public sealed class GraphOptions
{
    /// <summary>Apply the fusions (MatMul+Add, Conv+BatchNormalization(+Relu), LayerNorm and GELU patterns). Default true.</summary>
    public bool Fuse { get; init; } = true;
    /// <summary>Fold nodes whose inputs are all constants. Default true.</summary>
    public bool FoldConstants { get; init; } = true;

    /// <summary>Default of <see cref="MaxPlans"/>.</summary>
    public const int DefaultMaxPlans = 32;

    /// <summary>
    /// Most execution plans (one per distinct set of input shapes, each holding its intermediate buffers) a session
    /// keeps; when a new shape set would exceed it, the least recently used plan is dropped (and rebuilt if its shapes
    /// come back). Default <see cref="DefaultMaxPlans"/>; at least 1.
    /// </summary>
    public int MaxPlans
    {
        get => _maxPlans;
        init => _maxPlans = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxPlans), value, "must be at least 1");
    }

    private readonly int _maxPlans = DefaultMaxPlans;
}

/// <summary>
/// Executes an ONNX graph on the CPU. Loading sorts the nodes topologically (cycles and dangling inputs are errors),
/// builds every operator (an unsupported operator fails here, naming op type and node), folds constant subgraphs
/// and applies fusions. Each distinct set of input shapes gets a plan: shapes are inferred statically, Shape-derived
/// subgraphs fold to constants, and intermediate buffers are assigned by liveness so values share a pool. Plans are
/// cached per input-shape set, at most <see cref="GraphOptions.MaxPlans"/> of them (least recently used dropped first),
/// so a server that sees many sequence lengths holds a bounded number of plans and buffer pools.
/// Not thread-safe: one Run at a time.
/// </summary>
public sealed class GraphSession
{
    internal const string InternalDomain = "quanta";

    private readonly List<GraphNode> _nodes;
    private readonly Dictionary<string, GraphTensor> _constants;
    private readonly HashSet<string> _outputSet;
    // Plan cache: key -> node of the recency list (most recently used first), bounded by GraphOptions.MaxPlans.
    private readonly Dictionary<string, LinkedListNode<(string Key, Plan Plan)>> _plans = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, Plan Plan)> _recency = new();
    private readonly GraphOptions _options;
    private Plan? _last;
    // Merged Q/K/V projections made by the plan-time attention fusion, shared by every plan (weights packed once).
    private readonly Dictionary<string, (GraphNode Node, GraphTensor Weight, GraphTensor Bias)> _qkvCache = new(StringComparer.Ordinal);

    /// <summary>Builds a session for a parsed model.</summary>
    public GraphSession(OnnxModel model, GraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = options ?? new GraphOptions();
        Opset = model.DefaultOpset;
        var g = model.Graph;
        _constants = new Dictionary<string, GraphTensor>(StringComparer.Ordinal);
        foreach (var t in g.Initializers) _constants[t.Name] = GraphTensor.FromOnnx(t);
        InputNames = g.Inputs.Select(i => i.Name).Where(n => !_constants.ContainsKey(n)).ToArray();
        OutputNames = g.Outputs.Select(o => o.Name).ToArray();
        _outputSet = new HashSet<string>(OutputNames, StringComparer.Ordinal);
        InputInfos = g.Inputs.Where(i => !_constants.ContainsKey(i.Name)).ToArray();
        var nodes = new List<GraphNode>();
        int k = 0;
        foreach (var n in g.Nodes)
        {
            var node = new GraphNode(n.Name.Length > 0 ? n.Name : $"{n.OpType}_{k}", n.OpType, n.Domain, n.Inputs.ToArray(), n.Outputs.ToArray(), n.Attributes);
            k++;
            nodes.Add(node);
        }
        _nodes = Sort(nodes, InputNames);
        foreach (var n in _nodes) n.Operator = OperatorRegistry.Create(n, Opset);
        if (_options.FoldConstants) _nodes = Fold(_nodes, _constants, null, null);
        if (_options.Fuse)
        {
            _nodes = GraphFusion.Apply(_nodes, _constants, _outputSet);
            foreach (var n in _nodes) n.Operator ??= OperatorRegistry.Create(n, Opset);
            _nodes = Sort(_nodes, InputNames.Concat(_constants.Keys).ToArray());
        }
    }

    /// <summary>Loads and prepares a .onnx file.</summary>
    public static GraphSession Load(string path, GraphOptions? options = null) => new(OnnxModel.Load(path), options);

    /// <summary>Default-domain opset version of the model.</summary>
    public long Opset { get; }
    /// <summary>Graph inputs the caller provides (initializers excluded).</summary>
    public IReadOnlyList<string> InputNames { get; }
    /// <summary>Declared types and shapes of the inputs (symbolic dims such as a batch dimension allowed).</summary>
    public IReadOnlyList<OnnxValueInfo> InputInfos { get; }
    /// <summary>Graph outputs.</summary>
    public IReadOnlyList<string> OutputNames { get; }
    /// <summary>Op types of the nodes that run (after folding and fusion), in execution order.</summary>
    public IReadOnlyList<string> OpTypes => _nodes.Select(n => n.OpType).ToArray();

    /// <summary>Op types of the plan for the given input shapes (after shape folding and the plan-time fusions), in execution order.</summary>
    internal IReadOnlyList<string> PlanOpTypes(IReadOnlyDictionary<string, int[]> inputShapes) => GetPlan(inputShapes).Order.Select(n => n.OpType).ToArray();
    /// <summary>Nodes that run, in execution order (the quantizer swaps their operators).</summary>
    internal IReadOnlyList<GraphNode> Nodes => _nodes;
    /// <summary>Initializers and load-time folded constants by name.</summary>
    internal IReadOnlyDictionary<string, GraphTensor> Constants => _constants;
    /// <summary>Drops every cached plan (the quantizer calibrates on plans that keep each session node).</summary>
    internal void ClearPlans()
    {
        _plans.Clear();
        _recency.Clear();
        _last = null;
    }

    /// <summary>Called before each node runs with its input values (calibration); null normally.</summary>
    internal Action<GraphNode, GraphTensor?[]>? Observer { get; set; }

    /// <summary>When set, every run adds per-op-type node times to it (see <see cref="GraphProfile"/>); null (default) costs nothing.</summary>
    public GraphProfile? Profile { get; set; }

    /// <summary>Execution plans cached now (at most <see cref="GraphOptions.MaxPlans"/>).</summary>
    public int PlanCount => _plans.Count;

    /// <summary>Bytes held by the intermediate buffer pool after the last run.</summary>
    public long PooledBytes { get; private set; }
    /// <summary>Sum of the sizes of every pooled intermediate value of the last run (what no reuse would need).</summary>
    public long IntermediateBytes { get; private set; }

    /// <summary>Static shapes of every value for the given input shapes (null where not inferable without running).</summary>
    public IReadOnlyDictionary<string, int[]?> InferShapes(IReadOnlyDictionary<string, int[]> inputShapes)
    {
        ArgumentNullException.ThrowIfNull(inputShapes);
        return GetPlan(inputShapes).Shapes;
    }

    /// <summary>Runs the graph; returns the graph outputs by name (fresh tensors owned by the caller).</summary>
    public IReadOnlyDictionary<string, GraphTensor> Run(IReadOnlyDictionary<string, GraphTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var profile = Profile;
        long runStart = profile is null ? 0 : Stopwatch.GetTimestamp();
        var plan = GetPlan(inputs);
        var values = plan.Values;
        for (int i = 0; i < plan.InputIds.Length; i++) values[plan.InputIds[i]] = inputs[InputNames[i]];
        plan.Pool.ResetRequested();
        var observer = Observer;
        try
        {
            foreach (var step in plan.Steps)
            {
                var ctx = step.Context;
                var node = ctx.Node;
                var ins = ctx.Inputs;
                for (int i = 0; i < ins.Length; i++)
                {
                    int id = step.In[i];
                    ins[i] = id < 0 ? null : values[id] ?? throw new GraphException($"{node.Describe}: input '{node.Inputs[i]}' has no value");
                }
                observer?.Invoke(node, ins);
                var outs = ctx.Outputs;
                Array.Clear(outs);
                long t0 = profile is null ? 0 : Stopwatch.GetTimestamp();
                try
                {
                    node.Operator!.Run(ctx);
                }
                catch (Exception e) when (e is not GraphException and (InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException))
                {
                    throw new GraphException($"{node.Describe}: {e.Message}", e);
                }
                profile?.AddNode(node.OpType, Stopwatch.GetTimestamp() - t0);
                for (int i = 0; i < outs.Length; i++)
                    if (step.Out[i] >= 0)
                        values[step.Out[i]] = outs[i] ?? throw new GraphException($"{node.Describe}: output {i} was not produced");
            }
            IntermediateBytes = plan.Pool.Requested;
            PooledBytes = plan.Pool.Bytes;
            var result = new Dictionary<string, GraphTensor>(OutputNames.Count, StringComparer.Ordinal);
            for (int i = 0; i < OutputNames.Count; i++)
                result[OutputNames[i]] = values[plan.OutputIds[i]] ?? throw new GraphException($"graph output '{OutputNames[i]}' has no value");
            profile?.AddRun(Stopwatch.GetTimestamp() - runStart);
            return result;
        }
        finally
        {
            // Drop per-run references (inputs, intermediates) so the plan keeps only constants alive.
            for (int i = plan.ConstantCount; i < values.Length; i++) values[i] = null;
            foreach (var step in plan.Steps) { Array.Clear(step.Context.Inputs); Array.Clear(step.Context.Outputs); }
        }
    }

    internal static int ElementBytes(TensorElementType t) => t switch { TensorElementType.Float32 => 4, TensorElementType.Int64 => 8, _ => 1 };

    private Plan GetPlan(IReadOnlyDictionary<string, GraphTensor> inputs)
    {
        // Fast path: the last plan's input shapes match (no key string, no allocation).
        if (_last is { } last)
        {
            bool same = true;
            for (int i = 0; i < InputNames.Count && same; i++)
            {
                if (!inputs.TryGetValue(InputNames[i], out var t)) throw new GraphException($"graph input '{InputNames[i]}' was not provided");
                same = t.Shape.AsSpan().SequenceEqual(last.InputShapes[i]);
            }
            if (same) return last;
        }
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var name in InputNames)
        {
            if (!inputs.TryGetValue(name, out var t)) throw new GraphException($"graph input '{name}' was not provided");
            shapes[name] = t.Shape;
        }
        return _last = GetPlan(shapes);
    }

    private Plan GetPlan(IReadOnlyDictionary<string, int[]> inputShapes)
    {
        string key = string.Join(";", InputNames.Select(n => inputShapes.TryGetValue(n, out var s) ? string.Join(",", s) : "?"));
        if (_plans.TryGetValue(key, out var hit))
        {
            if (hit != _recency.First) { _recency.Remove(hit); _recency.AddFirst(hit); }
            return hit.Value.Plan;
        }
        var consts = new Dictionary<string, GraphTensor>(_constants, StringComparer.Ordinal);
        var shapes = new Dictionary<string, int[]?>(StringComparer.Ordinal);
        foreach (var (name, t) in consts) shapes[name] = t.Shape;
        foreach (var name in InputNames) shapes[name] = inputShapes.TryGetValue(name, out var s) ? s : null;
        var order = Fold(_nodes, consts, shapes, _options.FoldConstants ? _outputSet : null);
        if (_options.Fuse && _options.FoldConstants)
        {
            // Shape-dependent fusions (attention heads), now that the shape subgraphs have folded.
            order = AttentionFusion.Apply(order, shapes, _outputSet, consts, _qkvCache, mergeProjections: Observer is null);
            foreach (var n in order) n.Operator ??= OperatorRegistry.Create(n, Opset);
        }
        var inputShapeList = InputNames.Select(n => inputShapes.TryGetValue(n, out var s) ? (int[])s.Clone() : []).ToArray();
        var plan = new Plan(order, _options.FoldConstants ? consts : new Dictionary<string, GraphTensor>(_constants, StringComparer.Ordinal),
            shapes, new BufferPlan(order, _outputSet, shapes), InputNames, OutputNames, inputShapeList);
        while (_plans.Count >= _options.MaxPlans && _recency.Last is { } oldest)
        {
            _recency.RemoveLast();
            _plans.Remove(oldest.Value.Key);
            if (ReferenceEquals(_last, oldest.Value.Plan)) _last = null;
        }
        _plans[key] = _recency.AddFirst((key, plan));
        return plan;
    }

    /// <summary>
    /// Walks nodes in order: nodes whose inputs are all constant run now and become constants (Shape also folds when
    /// its input shape is known); the others get their output shapes inferred (when <paramref name="shapes"/> is given)
    /// and are returned. With <paramref name="shapes"/> null this is load-time folding on initializers only.
    /// </summary>
    private static List<GraphNode> Fold(List<GraphNode> nodes, Dictionary<string, GraphTensor> consts, Dictionary<string, int[]?>? shapes, ISet<string>? _)
    {
        var rest = new List<GraphNode>();
        foreach (var node in nodes)
        {
            bool allConst = node.Inputs.All(i => i.Length == 0 || consts.ContainsKey(i));
            if (allConst && node.OpType != "RandomNormal")
            {
                var ins = node.Inputs.Select(i => i.Length == 0 ? null : consts[i]).ToArray();
                var outs = new GraphTensor?[node.Outputs.Length];
                node.Operator!.Run(new OpContext(node, ins, outs));
                for (int i = 0; i < outs.Length; i++)
                    if (node.Outputs[i].Length > 0 && outs[i] is { } t)
                    {
                        consts[node.Outputs[i]] = t;
                        if (shapes is not null) shapes[node.Outputs[i]] = t.Shape;
                    }
                continue;
            }
            if (shapes is not null && node.Operator is Operators.Shape sh && shapes.GetValueOrDefault(node.Inputs[0]) is { } known)
            {
                var t = sh.Value(known);
                consts[node.Outputs[0]] = t;
                shapes[node.Outputs[0]] = t.Shape;
                continue;
            }
            if (shapes is not null)
            {
                var ctx = new ShapeContext(node.Inputs.Select(i => i.Length == 0 ? null : shapes.GetValueOrDefault(i)).ToArray(),
                    node.Inputs.Select(i => i.Length == 0 ? null : consts.GetValueOrDefault(i)).ToArray());
                int[]?[] inferred;
                try
                {
                    inferred = node.Operator!.InferShapes(ctx);
                }
                catch (GraphException)
                {
                    throw;
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
                {
                    inferred = new int[]?[node.Outputs.Length];
                }
                for (int i = 0; i < node.Outputs.Length; i++)
                    if (node.Outputs[i].Length > 0) shapes[node.Outputs[i]] = i < inferred.Length ? inferred[i] : null;
            }
            rest.Add(node);
        }
        return rest;
    }

    /// <summary>Kahn's topological sort; values must come from graph inputs, constants or earlier nodes.</summary>
    private List<GraphNode> Sort(List<GraphNode> nodes, IReadOnlyCollection<string> available)
    {
        var producer = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        foreach (var n in nodes)
            foreach (var o in n.Outputs)
                if (o.Length > 0 && !producer.TryAdd(o, n)) throw new GraphException($"value '{o}' is produced by both {producer[o].Describe} and {n.Describe}");
        var known = new HashSet<string>(available, StringComparer.Ordinal);
        foreach (var c in _constants.Keys) known.Add(c);
        var pending = new Dictionary<GraphNode, int>();
        var consumers = new Dictionary<string, List<GraphNode>>(StringComparer.Ordinal);
        var ready = new Queue<GraphNode>();
        foreach (var n in nodes)
        {
            int missing = 0;
            foreach (var i in n.Inputs.Distinct())
            {
                if (i.Length == 0 || known.Contains(i)) continue;
                if (!producer.ContainsKey(i)) throw new GraphException($"{n.Describe}: input '{i}' is not a graph input, initializer or node output");
                missing++;
                if (!consumers.TryGetValue(i, out var l)) consumers[i] = l = [];
                l.Add(n);
            }
            pending[n] = missing;
            if (missing == 0) ready.Enqueue(n);
        }
        var order = new List<GraphNode>();
        while (ready.Count > 0)
        {
            var n = ready.Dequeue();
            order.Add(n);
            foreach (var o in n.Outputs)
                if (o.Length > 0 && consumers.TryGetValue(o, out var l))
                    foreach (var c in l) if (--pending[c] == 0) ready.Enqueue(c);
        }
        if (order.Count != nodes.Count)
            throw new GraphException($"the graph has a cycle through {string.Join(", ", nodes.Except(order).Take(3).Select(n => n.Describe))}");
        return order;
    }

    /// <summary>
    /// Everything one set of input shapes needs at run time: the nodes left after folding, the constants, static
    /// shapes, buffer slots, and the precomputed steps (value ids instead of names, one reusable context per node).
    /// Value ids: constants first (their tensors stay in <see cref="Values"/>), then graph inputs and node outputs.
    /// </summary>
    private sealed class Plan
    {
        public Plan(List<GraphNode> order, Dictionary<string, GraphTensor> constants, Dictionary<string, int[]?> shapes, BufferPlan buffers,
            IReadOnlyList<string> inputNames, IReadOnlyList<string> outputNames, int[][] inputShapes)
        {
            Order = order;
            Shapes = shapes;
            InputShapes = inputShapes;
            Pool = new BufferPool(buffers.SlotCount);
            var ids = new Dictionary<string, int>(StringComparer.Ordinal);
            var vals = new List<GraphTensor?>();
            foreach (var (name, t) in constants) { ids[name] = vals.Count; vals.Add(t); }
            ConstantCount = vals.Count;
            int Id(string name)
            {
                if (!ids.TryGetValue(name, out int id)) { id = ids[name] = vals.Count; vals.Add(null); }
                return id;
            }
            InputIds = inputNames.Select(Id).ToArray();
            var steps = new List<Step>();
            foreach (var node in order)
            {
                var inIds = node.Inputs.Select(i => i.Length == 0 ? -1 : Id(i)).ToArray();
                var isConst = inIds.Select(i => i >= 0 && i < ConstantCount).ToArray();
                var outIds = node.Outputs.Select(o => o.Length == 0 ? -1 : Id(o)).ToArray();
                var slots = node.Outputs.Select(o => o.Length > 0 && buffers.Slot.TryGetValue(o, out int sl) ? sl : -1).ToArray();
                steps.Add(new Step(inIds, outIds, new OpContext(node, slots, Pool, isConst)));
            }
            OutputIds = outputNames.Select(Id).ToArray();
            Steps = steps.ToArray();
            Values = vals.ToArray();
        }

        public List<GraphNode> Order { get; }
        public Dictionary<string, int[]?> Shapes { get; }
        public int[][] InputShapes { get; }
        public BufferPool Pool { get; }
        public int ConstantCount { get; }
        public int[] InputIds { get; }
        public int[] OutputIds { get; }
        public Step[] Steps { get; }
        public GraphTensor?[] Values { get; }
    }

    private sealed record Step(int[] In, int[] Out, OpContext Context);
}
