using Quanta.Engine.KvCache;
using Quanta.Models.Runtime;

namespace Quanta.Engine.Execution;

/// <summary>
/// What a serving engine asks of an executor it does not build itself (a GPU executor, see
/// <c>ServingOptions.CreateExecutor</c>): run <see cref="Model"/> over sequences of <see cref="Cache"/> in steps of at
/// most <see cref="MaxBatchTokens"/> tokens and <see cref="MaxRunning"/> sequences at positions below
/// <see cref="ContextLength"/>.
/// </summary>
/// <param name="Model">The loaded decoder (weights on the host; a device executor copies or converts them).</param>
/// <param name="Cache">The engine's paged KV cache: its sequences' block tables index the executor's pages.</param>
/// <param name="MaxBatchTokens">Most tokens per step.</param>
/// <param name="MaxRunning">Most sequences per step.</param>
/// <param name="ContextLength">Positions per sequence.</param>
public sealed record ExecutorRequest(DecoderModel Model, PagedKvCache Cache, int MaxBatchTokens, int MaxRunning, int ContextLength);
