namespace Quanta.Engine.Tensor;

/// <summary>
/// A tensor model whose requests are rewritten before they are queued, on the caller's thread (e.g. encoded images
/// decoded, resized and normalized into the tensor the network takes). <see cref="DynamicBatcher.InferAsync"/> calls
/// <see cref="Prepare"/> after <see cref="TensorValidation.Validate"/> and batches the prepared request, so one bad
/// request fails alone and never the batch it would have joined, and the batch thread only runs the network.
/// </summary>
public interface IPreparingTensorModel : ITensorModel
{
    /// <summary>
    /// The request as <see cref="ITensorModel.Run"/> takes it (same rows, outputs and parameters). Throws
    /// <see cref="TensorRequestException"/> when the request's content is unusable (e.g. an image that is refused).
    /// </summary>
    InferenceRequest Prepare(InferenceRequest request);
}
