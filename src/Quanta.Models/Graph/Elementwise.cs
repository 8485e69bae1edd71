namespace Quanta.Models.Graph;

/// <summary>A binary element function for <see cref="BinaryOperator{T}"/>.</summary>
internal interface IBinaryFn
{
    static abstract float F(float a, float b);
    static abstract long L(long a, long b);
    /// <summary>Comparison operators produce Bool.</summary>
    static virtual bool Compare => false;
    static virtual bool CF(float a, float b) => false;
    static virtual bool CL(long a, long b) => false;
    static virtual bool CB(bool a, bool b) => false;
    /// <summary>Whether input 1 may have another type than input 0 (Pow's exponent); it is converted to input 0's type.</summary>
    static virtual bool MixedTypes => false;
}

/// <summary>A unary element function for <see cref="UnaryOperator{T}"/>.</summary>
internal interface IUnaryFn
{
    static abstract float F(float x);
    static virtual bool HasLong => false;
    static virtual long L(long x) => x;
}

/// <summary>Binary elementwise operator with ONNX broadcasting over Float32 and Int64 (and Bool for comparisons).</summary>
internal class BinaryOperator<T>(GraphNode node) : GraphOperator(node) where T : IBinaryFn
{
    // Internal attribute "activation" = "Relu" (set by the Add+Relu fusion): clamp the float result at 0.
    private readonly bool _relu = node.Str("activation", "") == "Relu";

    public override int[]?[] InferShapes(ShapeContext ctx) =>
        ctx.Shape(0) is { } a && ctx.Shape(1) is { } b ? [Broadcast.Shape(Node, a, b)] : [null];

    public override void Run(OpContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        if (a.Type != b.Type && T.MixedTypes && b.Type != TensorElementType.Bool)
        {
            var c = GraphTensor.Create(a.Type, b.Shape);
            for (int i = 0; i < b.Length; i++)
                if (a.Type == TensorElementType.Float32) c.F![i] = (float)b.Get(i); else c.L![i] = (long)b.Get(i);
            b = c;
        }
        if (a.Type != b.Type) throw new GraphException($"{Node.Describe}: input types {a.Type} and {b.Type} differ");
        var shape = Broadcast.Shape(Node, a.Shape, b.Shape);
        var y = ctx.Output(0, T.Compare ? TensorElementType.Bool : a.Type, shape);
        Apply(a, b, y);
    }

    // Elements per chunk of the tensor-with-scalar loop (one "row" of RowParallel).
    private const int ScalarChunk = 8192;

    // y[i] = a[i] op s over chunk r (elements [r·ScalarChunk, min(Length, (r + 1)·ScalarChunk))).
    private struct ScalarChunks : IRowBody
    {
        public float[] A, Y;
        public float S;
        public int Length;

        public readonly void Row(int r)
        {
            int i0 = r * ScalarChunk, i1 = Math.Min(Length, i0 + ScalarChunk);
            var a = A; var y = Y; float s = S;
            for (int i = i0; i < i1; i++) y[i] = T.F(a[i], s);
        }
    }

    /// <summary>y = a op b with broadcasting; y's shape must be the broadcast shape.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Apply(GraphTensor a, GraphTensor b, GraphTensor y)
    {
        var shape = y.Shape;
        if (!T.Compare && a.Type == TensorElementType.Float32 && a.Length == y.Length && b.Length == y.Length)
        {
            if (typeof(T) == typeof(Operators.Add.Fn)) { Operators.Add.Same(a.Floats, b.Floats, y.Floats, _relu); return; }
            var fa = a.F!; var fb = b.F!; var fy = y.F!;
            for (int i = 0; i < y.Length; i++) fy[i] = T.F(fa[i], fb[i]);
            if (_relu) Relu(y);
            return;
        }
        if (!T.Compare && a.Type == TensorElementType.Float32 && a.Length == y.Length && b.Length == 1)
        {
            // Tensor with a scalar (attention scaling and the like): no broadcast bookkeeping, chunks spread over the pool.
            RowParallel.For((y.Length + ScalarChunk - 1) / ScalarChunk, ScalarChunk, new ScalarChunks { A = a.F!, Y = y.F!, S = b.F![0], Length = y.Length });
            if (_relu) Relu(y);
            return;
        }
        var sa = Broadcast.Strides(a.Shape, shape);
        var sb = Broadcast.Strides(b.Shape, shape);
        Broadcast.ForEachRow(shape, sa, sb, (o, oa, ob, n, ia, ib) =>
        {
            switch (a.Type, T.Compare)
            {
                case (TensorElementType.Float32, false):
                { var fa = a.F!; var fb = b.F!; var fy = y.F!; for (int i = 0; i < n; i++) fy[o + i] = T.F(fa[oa + i * ia], fb[ob + i * ib]); break; }
                case (TensorElementType.Int64, false):
                { var la = a.L!; var lb = b.L!; var ly = y.L!; for (int i = 0; i < n; i++) ly[o + i] = T.L(la[oa + i * ia], lb[ob + i * ib]); break; }
                case (TensorElementType.Float32, true):
                { var fa = a.F!; var fb = b.F!; var by = y.B!; for (int i = 0; i < n; i++) by[o + i] = T.CF(fa[oa + i * ia], fb[ob + i * ib]); break; }
                case (TensorElementType.Int64, true):
                { var la = a.L!; var lb = b.L!; var by = y.B!; for (int i = 0; i < n; i++) by[o + i] = T.CL(la[oa + i * ia], lb[ob + i * ib]); break; }
                case (TensorElementType.Bool, true):
                { var ba = a.B!; var bb = b.B!; var by = y.B!; for (int i = 0; i < n; i++) by[o + i] = T.CB(ba[oa + i * ia], bb[ob + i * ib]); break; }
                default: throw new GraphException($"{Node.Describe}: element type {a.Type} is not supported");
            }
        });
        if (_relu) Relu(y);
    }

    private static void Relu(GraphTensor y)
    {
        if (y.Type == TensorElementType.Int64)
        {
            var l = y.Longs;
            for (int i = 0; i < l.Length; i++) l[i] = Math.Max(l[i], 0L);
            return;
        }
        var f = y.Floats;
        for (int i = 0; i < f.Length; i++) f[i] = Math.Max(f[i], 0f);
    }
}

/// <summary>Variadic elementwise operator (Sum, Min, Max): folds inputs pairwise with broadcasting.</summary>
internal class VariadicOperator<T>(GraphNode node) : GraphOperator(node) where T : IBinaryFn
{
    public override int[]?[] InferShapes(ShapeContext ctx)
    {
        var shapes = new int[ctx.Shapes.Length][];
        for (int i = 0; i < shapes.Length; i++) if ((shapes[i] = ctx.Shape(i)!) is null) return [null];
        return [Broadcast.Shape(Node, shapes)];
    }

    public override void Run(OpContext ctx)
    {
        var bin = new BinaryOperator<T>(Node);
        var acc = ctx.Input(0);
        for (int i = 1; i < ctx.InputCount; i++)
        {
            var b = ctx.Input(i);
            var next = GraphTensor.Create(acc.Type, Broadcast.Shape(Node, acc.Shape, b.Shape));
            bin.Apply(acc, b, next);
            acc = next;
        }
        var y = ctx.Output(0, acc.Type, acc.Shape);
        Broadcast.Copy(acc, y);
    }
}

/// <summary>Unary elementwise operator over Float32 (and Int64 where the function defines it).</summary>
internal class UnaryOperator<T>(GraphNode node) : GraphOperator(node) where T : IUnaryFn
{
    public override int[]?[] InferShapes(ShapeContext ctx) => [ctx.Shape(0)];

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public override void Run(OpContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.Output(0, x.Type, x.Shape);
        if (x.Type == TensorElementType.Float32)
        {
            var fx = x.F!; var fy = y.F!;
            for (int i = 0; i < x.Length; i++) fy[i] = T.F(fx[i]);
        }
        else if (x.Type == TensorElementType.Int64 && T.HasLong)
        {
            var lx = x.L!; var ly = y.L!;
            for (int i = 0; i < x.Length; i++) ly[i] = T.L(lx[i]);
        }
        else throw new GraphException($"{Node.Describe}: element type {x.Type} is not supported");
    }
}
