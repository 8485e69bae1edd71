namespace Quanta.Engine.Tensor;

/// <summary>
/// A model served over tensors (Open Inference Protocol): metadata and a batched <see cref="Run"/>.
/// <para>Batching contract: with <see cref="MaxBatchSize"/> &gt; 0 every input's first dimension is the batch
/// dimension; a request carries one or more rows. <see cref="Run"/> receives requests the batcher found compatible
/// (equal <see cref="BatchKey"/>) whose rows sum to at most <see cref="MaxBatchSize"/>, and returns, for each request in
/// order, its own outputs (first dimension = its rows). With <see cref="MaxBatchSize"/> 0 each Run gets one request.
/// Requests reaching <see cref="Run"/> have passed <see cref="TensorValidation.Validate"/>.</para>
/// </summary>
public interface ITensorModel
{
    /// <summary>Model name (the {name} of /v2/models/{name}).</summary>
    string Name { get; }
    /// <summary>Platform string of the metadata, e.g. "onnx_quanta".</summary>
    string Platform { get; }
    /// <summary>Inputs (shapes with -1 for dynamic dimensions, including the batch dimension).</summary>
    IReadOnlyList<TensorSpec> Inputs { get; }
    /// <summary>Outputs.</summary>
    IReadOnlyList<TensorSpec> Outputs { get; }
    /// <summary>Most rows per Run; 0: the model does not batch (each request runs alone).</summary>
    int MaxBatchSize { get; }
    /// <summary>
    /// Requests with equal keys may share a batch. Models that cannot pad return <see cref="TensorBatching.ShapeKey"/>
    /// (types, trailing dimensions and parameters); models that pad internally may ignore the shapes.
    /// </summary>
    string BatchKey(InferenceRequest request);
    /// <summary>Runs a batch; one output set per request, in order.</summary>
    IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch);
}
