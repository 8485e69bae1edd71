using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;

namespace Quanta.Models.Recommendation;

/// <summary>
/// A DLRM-style click-through model exported to ONNX, run by <see cref="GraphSession"/>. Contract of the graph:
/// inputs "dense" float [batch, 13] (raw counts; the graph does its own log(1 + x) transform) and "sparse" int64
/// [batch, 26, bag] (row indices into the stacked embedding table, see <see cref="CriteoFeatures"/>); one output,
/// the click probability [batch, 1]. Embedding tables may be float32, float16 (Gather + Cast) or int8 with per-row
/// scales (DequantizeLinear before Gather): the executor converts them to float32 once at load, so lookups read
/// the dequantized values. Thread-safe (runs serialize).
/// </summary>
public sealed class DlrmModel
{
    private readonly GraphSession _session;
    private readonly Lock _gate = new();

    private DlrmModel(GraphSession session)
    {
        if (!session.InputNames.Contains("dense") || !session.InputNames.Contains("sparse") || session.InputNames.Count != 2)
            throw new InvalidDataException($"DLRM model must have inputs 'dense' and 'sparse', has [{string.Join(", ", session.InputNames)}]");
        _session = session;
    }

    /// <summary>Loads a DLRM .onnx file.</summary>
    public static DlrmModel Load(string path) => new(new GraphSession(OnnxModel.Load(path)));

    /// <summary>A DLRM model from ONNX bytes.</summary>
    public static DlrmModel FromBytes(byte[] onnx, string label = "<dlrm>") => new(new GraphSession(OnnxModel.Parse(onnx, label)));

    /// <summary>Click probabilities [batch] for dense [batch, 13] and sparse [batch, 26, bag] (row-major).</summary>
    public float[] Predict(float[] dense, long[] sparse, int batch)
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(sparse);
        if (batch <= 0 || dense.Length != batch * CriteoFeatures.DenseCount || sparse.Length % (batch * CriteoFeatures.SparseCount) != 0)
            throw new ArgumentException($"dense of {dense.Length} and sparse of {sparse.Length} do not fit a batch of {batch}");
        int bag = sparse.Length / (batch * CriteoFeatures.SparseCount);
        var inputs = new Dictionary<string, GraphTensor>(StringComparer.Ordinal)
        {
            ["dense"] = GraphTensor.FromFloats([batch, CriteoFeatures.DenseCount], dense),
            ["sparse"] = GraphTensor.FromLongs([batch, CriteoFeatures.SparseCount, bag], sparse),
        };
        lock (_gate)
        {
            var y = _session.Run(inputs)[_session.OutputNames[0]];
            if (y.Length != batch) throw new InvalidDataException($"DLRM output has {y.Length} values for a batch of {batch}");
            return y.Floats.ToArray();
        }
    }
}
