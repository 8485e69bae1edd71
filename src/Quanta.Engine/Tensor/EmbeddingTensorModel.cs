using System.Text;
using Quanta.Models.Embeddings;

namespace Quanta.Engine.Tensor;

/// <summary>
/// <see cref="EmbeddingModel"/> as a tensor model. Inputs (one of them per request): "text" BYTES [n] (UTF-8 texts)
/// or "input_ids" INT64 [1, len] (WordPiece ids without [CLS]/[SEP], which are added; cut at MaxTokens). Parameter
/// "dimensions" keeps that many leading components and renormalizes. Outputs: "embedding" FP32 [n, D] (unit length)
/// and "token_count" INT64 [n] (tokens fed to the model per text, [CLS]/[SEP] included). Texts of any length share a
/// batch (the model pads); a batch is one <see cref="EmbeddingModel.EmbedTokens"/> call over all its texts in order,
/// so a request's embeddings equal <see cref="EmbeddingModel.Embed"/> over the same texts in the same order.
/// </summary>
public sealed class EmbeddingTensorModel : ITensorModel
{
    /// <summary>Name of the text input.</summary>
    public const string TextInput = "text";
    /// <summary>Name of the token-id input.</summary>
    public const string IdsInput = "input_ids";
    /// <summary>Name of the embedding output.</summary>
    public const string EmbeddingOutput = "embedding";
    /// <summary>Name of the token-count output.</summary>
    public const string TokenCountOutput = "token_count";
    /// <summary>Name of the dimensions parameter.</summary>
    public const string DimensionsParameter = "dimensions";

    /// <summary>Wraps <paramref name="model"/>; runs it once on a short text to learn the embedding width.</summary>
    public EmbeddingTensorModel(EmbeddingModel model, string name, int maxBatchSize = 64)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Name = name ?? throw new ArgumentNullException(nameof(name));
        if (maxBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(maxBatchSize));
        MaxBatchSize = maxBatchSize;
        Dimensions = model.Dimensions > 0 ? model.Dimensions : model.Embed(["a"])[0].Length;
        Inputs = [new TensorSpec(TextInput, TensorDataType.Bytes, [-1], Optional: true), new TensorSpec(IdsInput, TensorDataType.Int64, [-1, -1], Optional: true)];
        Outputs = [new TensorSpec(EmbeddingOutput, TensorDataType.Fp32, [-1, Dimensions]), new TensorSpec(TokenCountOutput, TensorDataType.Int64, [-1])];
    }

    /// <summary>The wrapped model.</summary>
    public EmbeddingModel Model { get; }
    /// <summary>Embedding width.</summary>
    public int Dimensions { get; }
    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public string Platform => "quanta_embedding";
    /// <inheritdoc/>
    public IReadOnlyList<TensorSpec> Inputs { get; }
    /// <inheritdoc/>
    public IReadOnlyList<TensorSpec> Outputs { get; }
    /// <inheritdoc/>
    public int MaxBatchSize { get; }

    /// <inheritdoc/>
    public string BatchKey(InferenceRequest request) => TensorBatching.ParameterKey(request);

    /// <summary>Token ids fed to the model for each row of <paramref name="request"/> (validates the request's form).</summary>
    public IReadOnlyList<long[]> TokenIds(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        bool text = request.Inputs.TryGetValue(TextInput, out var t), ids = request.Inputs.TryGetValue(IdsInput, out var i);
        if (text == ids) throw new TensorRequestException($"give exactly one of the inputs '{TextInput}' and '{IdsInput}'");
        if (text) return t!.Bytes!.Select(b => Model.Tokenizer.EncodeForModel(Encoding.UTF8.GetString(b), Model.MaxTokens)).ToArray();
        if (i!.Shape[0] != 1) throw new TensorRequestException($"'{IdsInput}' must have shape [1, length] (one sequence per request)");
        var row = i.Longs!;
        int vocab = Model.Tokenizer.VocabularySize;
        foreach (long id in row)
            if (id < 0 || id >= vocab) throw new TensorRequestException($"token id {id} is outside the vocabulary (0..{vocab - 1})");
        int keep = Math.Min(row.Length, Model.MaxTokens - 2);
        var r = new long[keep + 2];
        r[0] = Model.Tokenizer.Cls;
        Array.Copy(row, 0, r, 1, keep);
        r[^1] = Model.Tokenizer.Sep;
        return [r];
    }

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int? dims = null;
        if (batch[0].Parameters.TryGetValue(DimensionsParameter, out long d))
        {
            if (d < 1 || d > Dimensions) throw new TensorRequestException($"dimensions must be 1..{Dimensions}, got {d}");
            dims = (int)d;
        }
        var perRequest = batch.Select(TokenIds).ToArray();
        var all = perRequest.SelectMany(x => x).ToArray();
        var emb = Model.EmbedTokens(all, dims);
        var result = new IReadOnlyList<InferenceTensor>[batch.Count];
        int at = 0;
        for (int r = 0; r < batch.Count; r++)
        {
            int n = perRequest[r].Count, w = dims ?? Dimensions;
            var flat = new float[n * w]; // [n, w]
            var counts = new long[n];
            for (int k = 0; k < n; k++)
            {
                emb[at + k].CopyTo(flat, k * w);
                counts[k] = perRequest[r][k].Length;
            }
            at += n;
            result[r] = TensorBatching.Select(batch[r],
                [InferenceTensor.FromFloats(EmbeddingOutput, [n, w], flat), InferenceTensor.FromLongs(TokenCountOutput, TensorDataType.Int64, [n], counts)]);
        }
        return result;
    }
}
