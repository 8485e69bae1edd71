namespace Quanta.Models.Graph;

/// <summary>The storage behind <see cref="BufferPlan"/> slots: per slot one array per element type, grown on demand.</summary>
internal sealed class BufferPool(int slots)
{
    private readonly float[]?[] _f = new float[]?[slots];
    private readonly long[]?[] _l = new long[]?[slots];
    private readonly bool[]?[] _b = new bool[]?[slots];

    public long Bytes
    {
        get
        {
            long s = 0;
            for (int i = 0; i < _f.Length; i++) s += (_f[i]?.Length ?? 0) * 4L + (_l[i]?.Length ?? 0) * 8L + (_b[i]?.Length ?? 0);
            return s;
        }
    }

    /// <summary>Bytes of the values handed out since the last <see cref="ResetRequested"/> (what no reuse would need).</summary>
    public long Requested { get; private set; }

    public void ResetRequested() => Requested = 0;

    public GraphTensor Get(int slot, TensorElementType type, int[] shape, int n)
    {
        Requested += (long)n * GraphSession.ElementBytes(type);
        return Take(slot, type, shape, n);
    }

    private GraphTensor Take(int slot, TensorElementType type, int[] shape, int n) => type switch
    {
        TensorElementType.Float32 => GraphTensor.FromFloats(shape, _f[slot] is { } a && a.Length >= n ? a : _f[slot] = new float[n]),
        TensorElementType.Int64 => GraphTensor.FromLongs(shape, _l[slot] is { } a && a.Length >= n ? a : _l[slot] = new long[n]),
        _ => GraphTensor.FromBools(shape, _b[slot] is { } a && a.Length >= n ? a : _b[slot] = new bool[n]),
    };
}
