namespace Quanta.Models.Graph;

/// <summary>ONNX multidirectional (numpy) broadcasting: output shapes and per-input element strides.</summary>
internal static class Broadcast
{
    /// <summary>The broadcast shape of several shapes; throws when dimensions are incompatible.</summary>
    public static int[] Shape(GraphNode node, params int[][] shapes)
    {
        int rank = 0;
        foreach (var s in shapes) rank = Math.Max(rank, s.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++) r[i] = 1;
        foreach (var s in shapes)
        {
            for (int i = 0; i < s.Length; i++)
            {
                int d = s[i], at = rank - s.Length + i;
                if (d == r[at] || d == 1) continue;
                if (r[at] == 1) r[at] = d;
                else throw new GraphException($"{node.Describe}: shapes {string.Join(" and ", shapes.Select(x => "[" + string.Join(", ", x) + "]"))} do not broadcast");
            }
        }
        return r;
    }

    /// <summary>Element strides of <paramref name="shape"/> aligned to <paramref name="outShape"/> (0 where broadcast).</summary>
    public static int[] Strides(int[] shape, int[] outShape)
    {
        var st = new int[outShape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            int at = outShape.Length - shape.Length + i;
            st[at] = shape[i] == 1 ? 0 : s;
            s *= shape[i];
        }
        return st;
    }

    /// <summary>Row-major strides of a shape.</summary>
    public static int[] Contiguous(int[] shape)
    {
        var st = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { st[i] = s; s *= shape[i]; }
        return st;
    }

    /// <summary>
    /// Calls <paramref name="body"/>(outOffset, offsetA, offsetB, innerCount, innerStrideA, innerStrideB) for each
    /// run along the last output dimension.
    /// </summary>
    public static void ForEachRow(int[] outShape, int[] sa, int[] sb, Action<int, int, int, int, int, int> body)
    {
        int rank = outShape.Length;
        if (rank == 0) { body(0, 0, 0, 1, 0, 0); return; }
        int inner = outShape[rank - 1];
        int total = GraphTensor.SizeOf(outShape);
        if (total == 0) return;
        var idx = new int[rank];
        int oa = 0, ob = 0;
        for (int o = 0; o < total; o += inner)
        {
            body(o, oa, ob, inner, sa[rank - 1], sb[rank - 1]);
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++;
                oa += sa[d];
                ob += sb[d];
                if (idx[d] < outShape[d]) break;
                oa -= sa[d] * outShape[d];
                ob -= sb[d] * outShape[d];
                idx[d] = 0;
            }
        }
    }

    /// <summary>Normalizes a possibly negative axis against <paramref name="rank"/>.</summary>
    public static int Axis(GraphNode node, long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1)) throw new GraphException($"{node.Describe}: axis {axis} is out of range for rank {rank}");
        return (int)a;
    }

    /// <summary>Copies elements of any type (for shape-only operators).</summary>
    public static void Copy(GraphTensor src, GraphTensor dst)
    {
        switch (src.Type)
        {
            case TensorElementType.Float32: src.Floats.CopyTo(dst.Floats); break;
            case TensorElementType.Int64: src.Longs.CopyTo(dst.Longs); break;
            default: src.Bools.CopyTo(dst.Bools); break;
        }
    }

    /// <summary>Copies element <paramref name="from"/> of src to element <paramref name="to"/> of dst (same type).</summary>
    public static void CopyElement(GraphTensor src, int from, GraphTensor dst, int to)
    {
        switch (src.Type)
        {
            case TensorElementType.Float32: dst.F![to] = src.F![from]; break;
            case TensorElementType.Int64: dst.L![to] = src.L![from]; break;
            default: dst.B![to] = src.B![from]; break;
        }
    }

    /// <summary>Copies a run of elements between tensors of the same type.</summary>
    public static void CopyRange(GraphTensor src, int from, GraphTensor dst, int to, int count)
    {
        switch (src.Type)
        {
            case TensorElementType.Float32: Array.Copy(src.F!, from, dst.F!, to, count); break;
            case TensorElementType.Int64: Array.Copy(src.L!, from, dst.L!, to, count); break;
            default: Array.Copy(src.B!, from, dst.B!, to, count); break;
        }
    }

    /// <summary>Values of an int64 (or integral float) tensor as longs.</summary>
    public static long[] ToLongs(GraphTensor t)
    {
        if (t.Type == TensorElementType.Int64) return t.Longs.ToArray();
        var r = new long[t.Length];
        for (int i = 0; i < r.Length; i++) r[i] = (long)t.Get(i);
        return r;
    }

    public static int[] ToInts(GraphNode node, long[] v)
    {
        var r = new int[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i] < int.MinValue || v[i] > int.MaxValue) throw new GraphException($"{node.Describe}: value {v[i]} is out of range");
            r[i] = (int)v[i];
        }
        return r;
    }
}
