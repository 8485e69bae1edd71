namespace Quanta.Engine.Tensor;

/// <summary>
/// Metadata of one model input or output: name, element type and shape, where -1 marks a dynamic dimension. For a
/// model with <see cref="ITensorModel.MaxBatchSize"/> &gt; 0 the first dimension is the batch dimension (-1).
/// An <see cref="Optional"/> input may be left out of a request.
/// </summary>
public sealed record TensorSpec(string Name, TensorDataType DataType, IReadOnlyList<long> Shape, bool Optional = false);
