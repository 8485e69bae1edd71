using Quanta.Core.Threading;
using Quanta.Engine.Execution;
using Quanta.Engine.Generation;
using Quanta.Engine.KvCache;
using Quanta.Engine.Metrics;
using Quanta.Engine.Sampling;
using Quanta.Engine.Scheduling;
using Quanta.Models.KvCache;

namespace Quanta.Engine.Serving;

/// <summary>
/// Serves one loaded text-generation model to many concurrent requests: owns a <see cref="PagedKvCache"/> (with
/// prefix caching), a <see cref="Scheduler"/>, a <see cref="CpuExecutor"/> and the <see cref="EngineLoop"/> thread.
/// <para><see cref="Submit"/> turns a <see cref="ServingRequest"/> into one engine request per choice (each with its
/// own <see cref="Sampler"/> from <see cref="SamplingParameters.ForChoice"/>, the prompt fed to its penalty window),
/// and each choice turns its tokens into text deltas on the engine thread as they are sampled (one thread switch per
/// token, the reader's): tokens are detokenized incrementally (a character
/// split across tokens comes out whole), end-of-generation tokens end the choice without text, and stop strings are
/// matched across token boundaries (<see cref="StopStringMatcher"/>) and never emitted; when one completes the choice
/// is cancelled in the engine (its blocks are freed) and ends with <see cref="ServingFinishReason.Stop"/>.</para>
/// <para>Cancelling the token given to <see cref="Submit"/> (a client that went away) cancels every choice, which frees
/// their KV blocks. Admission is bounded: see <see cref="ServingOptions"/>; a full queue throws
/// <see cref="QueueFullException"/> immediately.</para>
/// <para>Metrics: every choice is tracked in <see cref="Metrics"/> (<see cref="ServingMetrics.RequestQueued"/> when
/// submitted, <see cref="RequestTracker.Token"/> per token as the engine thread hands it to the choice (when its delta
/// is written to the call), <see cref="RequestTracker.Finished"/> exactly once
/// when it ends, however it ends: finished, cancelled (queued or running), past its deadline, or failed by the engine
/// (finish reason aborted), so request_success_total and the end-to-end latency count agree), the loop's steps through a
/// <see cref="MetricsLoopObserver"/>; a request's usage sums its choices' energy and cost.</para>
/// <para>Default KV pool: <see cref="ServingOptions.MaxRunning"/> full contexts, at most 2 GiB, at least one
/// context. Thread-safe; Dispose stops the loop (unfinished requests end cancelled) and releases the model.</para>
/// </summary>
public sealed class ServingEngine : IDisposable
{
    private const long DefaultPoolBytes = 2L << 30;

    private readonly LlmModel _model;
    private readonly WorkerPool _pool;
    private readonly IExecutor _executor;
    private readonly IDisposable? _created;   // an executor from ServingOptions.CreateExecutor, disposed with the engine
    private readonly ServingMetrics _metrics;
    private readonly bool _ownsMetrics;
    private readonly Scheduler _scheduler;
    private readonly EngineLoop _loop;
    private readonly ServingOptions _options;
    private readonly int _maxPiece;
    private readonly int[] _endTokens;
    private int _outstanding;
    private bool _disposed;
    private JsonVocabulary? _jsonVocabulary;
    private object? _jsonLock;

    /// <summary>Serves <paramref name="model"/> (owned from now on: Dispose disposes it) under the id <paramref name="id"/>.</summary>
    public ServingEngine(string id, LlmModel model, ServingOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options ?? new ServingOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.BlockSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxBatchTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxRunning);
        ArgumentOutOfRangeException.ThrowIfNegative(_options.MaxQueue);
        ArgumentOutOfRangeException.ThrowIfNegative(_options.KvCacheBlocks);
        ArgumentOutOfRangeException.ThrowIfNegative(_options.KvCacheMegabytes);
        Id = id;
        ContextLength = model.ContextLength;
        var config = model.Model.Config;
        int blocksPerContext = (ContextLength + _options.BlockSize - 1) / _options.BlockSize;
        KvCacheType? external = _options.CreateExecutor is null ? null : _options.ExecutorKvStorage;
        if (_options.ExecutorKvStorage is not null && _options.CreateExecutor is null)
            throw new ArgumentException("ExecutorKvStorage needs CreateExecutor: the CPU executor reads K/V from the engine's cache");
        long bytesPerBlock = PagedKvCache.BlocksOnly(config, 2, _options.BlockSize, ContextLength, external ?? _options.KvCacheType).BytesPerBlock;
        long blocks = _options.KvCacheBlocks > 0 ? _options.KvCacheBlocks
            : _options.KvCacheMegabytes > 0 ? ((long)_options.KvCacheMegabytes << 20) / bytesPerBlock
            : Math.Max(blocksPerContext, Math.Min((long)blocksPerContext * _options.MaxRunning, DefaultPoolBytes / bytesPerBlock));
        if (blocks < 2) throw new ArgumentException($"the KV cache needs at least 2 blocks of {bytesPerBlock} bytes; raise the KV cache size");
        Cache = external is { } type   // +1: the null block
            ? PagedKvCache.BlocksOnly(config, checked((int)blocks + 1), _options.BlockSize, ContextLength, type)
            : PagedKvCache.For(config, checked((int)blocks + 1), _options.BlockSize, ContextLength, _options.KvCacheType);
        _pool = new WorkerPool(_options.Threads);
        _ownsMetrics = _options.Metrics is null;
        _metrics = _options.Metrics ?? new ServingMetrics();
        try
        {
            IExecutor inner = _options.CreateExecutor is { } create
                ? create(new ExecutorRequest(model.Model.Model, Cache, _options.MaxBatchTokens, _options.MaxRunning, ContextLength))
                : new CpuExecutor(model.Model.Model, _pool, _options.MaxBatchTokens, _options.MaxRunning, ContextLength);
            _created = _options.CreateExecutor is null ? null : inner as IDisposable;
            if (_options.WarmUp && _options.CreateExecutor is null)
            {
                Cache.Prefault();   // no serving step pays the cache's first-touch page faults
                WarmUpResult = ExecutorWarmUp.Run(inner, Cache, _options.MaxRunning, _options.MaxBatchTokens, ContextLength);
            }
            _executor = _options.WrapExecutor?.Invoke(inner) ?? inner;
            _scheduler = new Scheduler(Cache, new SchedulerOptions { MaxBatchTokens = _options.MaxBatchTokens, MaxRunning = _options.MaxRunning });
            _loop = new EngineLoop(_scheduler, _executor, new MetricsLoopObserver(_metrics, id, Cache.Pool));
        }
        catch
        {
            _created?.Dispose();
            _pool.Dispose();
            if (_ownsMetrics) _metrics.Dispose();
            throw;
        }
        int maxPiece = 1;
        var ends = new List<int>();
        for (int t = 0; t < model.Tokenizer.VocabSize; t++)
        {
            maxPiece = Math.Max(maxPiece, model.Tokenizer.TokenToPiece(t, renderSpecial: false).Length);
            if (model.IsEndOfGeneration(t)) ends.Add(t);
        }
        _maxPiece = maxPiece;
        _endTokens = ends.ToArray();
    }

    /// <summary>Loads the model at <paramref name="path"/> and serves it as <paramref name="id"/>.</summary>
    public static ServingEngine Load(string id, string path, ServingOptions? options = null)
    {
        options ??= new ServingOptions();
        LlmModel model = LlmModel.Load(path, new LlmLoadOptions
        {
            TokenizerPath = options.TokenizerPath,
            ContextLength = options.ContextLength,
            Threads = options.Threads,
            KvCacheType = options.KvCacheType,
            Residency = options.Residency,
        });
        try
        {
            return new ServingEngine(id, model, options);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The vocabulary prepared for JSON-constrained decoding (built on first use, then shared by every request).</summary>
    public JsonVocabulary JsonVocabulary =>
        LazyInitializer.EnsureInitialized(ref _jsonVocabulary, ref _jsonLock, () => JsonVocabulary.FromTokenizer(_model.Tokenizer, _endTokens));

    /// <summary>The model id requests name.</summary>
    public string Id { get; }

    /// <summary>The model, tokenizer and chat template.</summary>
    public LlmModel Model => _model;

    /// <summary>Positions per sequence (prompt plus generated).</summary>
    public int ContextLength { get; }

    /// <summary>The paged KV cache (its <see cref="PagedKvCache.Pool"/> tells the blocks in use).</summary>
    public PagedKvCache Cache { get; }

    /// <summary>What the start-up warm-up did (<see cref="ServingOptions.WarmUp"/>); null when it did not run.</summary>
    public WarmUpResult? WarmUpResult { get; }

    /// <summary>The options in force.</summary>
    public ServingOptions Options => _options;

    /// <summary>Threads of the engine's worker pool, the calling thread included (<see cref="ServingOptions.Threads"/>
    /// resolved: 0 there means the processor count).</summary>
    public int Threads => _pool.ThreadCount;

    /// <summary>The metrics recorder this engine reports to (shared when given in <see cref="ServingOptions.Metrics"/>).</summary>
    public ServingMetrics Metrics => _metrics;

    /// <summary>Requests the engine loop holds (accepted by its scheduler, not yet completed); 0 when idle.</summary>
    public int ActiveRequests => _loop.ActiveRequests;

    /// <summary>Sequences accepted and not yet finished (waiting or running).</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Most sequences outstanding at once: MaxRunning + MaxQueue.</summary>
    public int Capacity => _options.MaxRunning + _options.MaxQueue;

    /// <summary>
    /// Accepts <paramref name="request"/> and starts generating; <paramref name="cancellationToken"/> cancels it.
    /// </summary>
    /// <exception cref="ArgumentException">An empty prompt, a token id outside the vocabulary, or an invalid sampling value.</exception>
    /// <exception cref="ContextLengthExceededException">The prompt leaves no room in the context.</exception>
    /// <exception cref="QueueFullException">Accepting it would exceed <see cref="Capacity"/>.</exception>
    public ServingCall Submit(ServingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        IReadOnlyList<int> prompt = request.Prompt ?? throw new ArgumentException("the prompt is required", nameof(request));
        if (prompt.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(request));
        int vocab = _executor.VocabSize;
        foreach (int t in prompt)
            if ((uint)t >= (uint)vocab) throw new ArgumentException($"token id {t} is outside the vocabulary 0..{vocab - 1}", nameof(request));
        if (prompt.Count >= ContextLength) throw new ContextLengthExceededException(prompt.Count, ContextLength);
        SamplingParameters sampling = request.Sampling ?? new SamplingParameters();
        sampling.Validate(vocab);
        int n = sampling.N;
        if (n > _options.MaxRunning) throw new ArgumentException($"n = {n} exceeds the {_options.MaxRunning} sequences this server runs at once", nameof(request));
        int room = ContextLength - prompt.Count;
        int maxNew = Math.Min(sampling.MaxTokens ?? room, room);
        int[] promptArray = prompt.ToArray();

        // samplers first (they validate), then reserve room in the queue
        JsonVocabulary? json = null;
        if (sampling.JsonObject)
        {
            if (_endTokens.Length == 0) throw new ArgumentException("response_format json_object needs a model with an end-of-generation token", nameof(request));
            json = JsonVocabulary;
        }
        var samplers = new Sampler[n];
        for (int i = 0; i < n; i++)
        {
            samplers[i] = new Sampler(vocab, sampling.ForChoice(i), json is null ? null : new JsonLogitsProcessor(json, maxNew));
            samplers[i].AcceptPrompt(promptArray);
        }
        while (true)
        {
            int cur = Volatile.Read(ref _outstanding);
            if (cur + n > Capacity) throw new QueueFullException();
            if (Interlocked.CompareExchange(ref _outstanding, cur + n, cur) == cur) break;
        }

        var call = new ServingCall(prompt.Count, n);
        var pumps = new Task<(RequestUsage Usage, int Cached)>[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                var logprobs = sampling.Logprobs ? new List<ServingLogprob>() : null;
                Sampler sampler = samplers[i];
                TokenSampler pick = logprobs is null
                    ? logits => sampler.Sample(logits, out _)
                    : logits =>
                    {
                        int token = sampler.Sample(logits, out TokenLogprobs? info);
                        var lp = info is { } v ? new ServingLogprob(token, v.Logprob, v.TopLogprobs.ToArray()) : new ServingLogprob(token, float.NaN, []);
                        logprobs.Add(lp);   // engine thread, like the choice stream that reads it
                        return token;
                    };
                long queuedAt = _metrics.Now;
                var stream = new ChoiceStream(this, call, i, promptArray[^1], sampling.Stop, logprobs);
                RequestHandle handle = _loop.Submit(new GenerationRequest
                {
                    Prompt = promptArray,
                    MaxNewTokens = maxNew,
                    Sampler = pick,
                    StopTokens = request.IgnoreEos ? [] : _endTokens,
                    Priority = request.Priority,
                    Deadline = request.Deadline,
                    Observer = stream,
                }, cancellationToken, h => stream.Tracker = _metrics.RequestQueued(h.Id, Id, promptArray.Length, queuedAt));
                pumps[i] = stream.FinishAsync(handle);
            }
        }
        catch
        {
            Interlocked.Add(ref _outstanding, -n);
            throw;
        }
        _ = FinishAsync(call, pumps);
        return call;
    }

    private async Task FinishAsync(ServingCall call, Task<(RequestUsage Usage, int Cached)>[] pumps)
    {
        try
        {
            var results = await Task.WhenAll(pumps).ConfigureAwait(false);
            int completion = 0;
            double joules = 0;
            double? cost = null;
            bool estimated = false;
            foreach (var (u, _) in results)
            {
                completion += u.CompletionTokens;
                joules += u.EnergyJoules;
                if (u.CostUsd is double c) cost = (cost ?? 0) + c;
                estimated |= u.EnergyEstimated;
            }
            call.Finish(new ServingUsage(call.PromptTokens, completion, results[0].Cached, joules, cost, estimated));
        }
#pragma warning disable CA1031 // the call reports any engine failure to its reader
        catch (Exception ex)
#pragma warning restore CA1031
        {
            call.Fail(ex);
        }
    }

    /// <summary>
    /// One choice's token-to-text state. Tokens arrive on the engine thread (<see cref="ITokenObserver"/>): each is
    /// counted in the metrics, detokenized, run through the stop strings and written to the call as a delta right there,
    /// so a token reaches the call's reader with one thread switch (the reader's). <see cref="FinishAsync"/> runs on the
    /// thread pool once the engine completes the request: the detokenizer's tail, the finish reason and the usage.
    /// </summary>
    private sealed class ChoiceStream : ITokenObserver
    {
        private readonly ServingEngine _owner;
        private readonly ServingCall _call;
        private readonly int _choice;
        private readonly IncrementalDetokenizer _detok;
        private readonly StopStringMatcher? _stops;
        private readonly List<ServingLogprob>? _logprobs;   // filled by the sampler on the engine thread, one per token
        private int _count;          // tokens delivered (engine thread until completion)
        private bool _stopped;       // a stop string completed: later tokens are not the client's
        private Exception? _error;   // a failure while turning tokens into text: the choice fails with it

        public ChoiceStream(ServingEngine owner, ServingCall call, int choice, int lastPromptToken, IReadOnlyList<string> stopList, List<ServingLogprob>? logprobs)
        {
            _owner = owner;
            _call = call;
            _choice = choice;
            _detok = new IncrementalDetokenizer(owner._model.Tokenizer, owner._maxPiece);
            _detok.Reset(lastPromptToken);
            _stops = stopList.Any(s => s.Length > 0) ? new StopStringMatcher(stopList) : null;
            _logprobs = logprobs;
        }

        /// <summary>Set by the submission before the engine loop can see the request (the loop's command queue publishes it).</summary>
        public RequestTracker Tracker { get; set; } = null!;

        public void OnToken(RequestHandle handle, int token)
        {
            if (_stopped || _error is not null) return;   // tokens sampled before the cancellation reached the engine
            try
            {
                ServingLogprob? lp = _logprobs is not null && _count < _logprobs.Count ? _logprobs[_count] : null;
                _count++;
                Tracker.Token();
                if (Array.IndexOf(_owner._endTokens, token) >= 0) return;   // the engine finishes the choice next
                ReadOnlySpan<char> piece = _detok.Append(token);
                string text;
                if (_stops is not null)
                {
                    StopStringResult r = _stops.Append(piece);
                    if (r.Stopped)
                    {
                        _stopped = true;
                        handle.Cancel();
                        _call.Write(new ServingDelta(_choice, r.Text, token, lp, ServingFinishReason.Stop));
                        return;
                    }
                    text = r.Text;
                }
                else text = piece.IsEmpty ? "" : new string(piece);
                _call.Write(new ServingDelta(_choice, text, token, lp, null));
            }
#pragma warning disable CA1031 // the engine thread must not see it: the choice fails with it once the engine lets go
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _error = ex;
                handle.Cancel();
            }
        }

        public async Task<(RequestUsage Usage, int Cached)> FinishAsync(RequestHandle handle)
        {
            bool finished = false;
            RequestTracker tracker = Tracker;
            try
            {
                Scheduling.GenerationResult result = await handle.Completion.ConfigureAwait(false);
                if (_error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_error);
                // tokens sampled after a stop string completed are not the client's: usage counts what was delivered
                RequestUsage usage = tracker.Finished(_stopped ? FinishReason.Stop : result.Finish, _count, result.CachedTokens);
                finished = true;
                if (!_stopped)
                {
                    string tail = new(_detok.Flush());
                    ServingFinishReason reason = Map(result.Finish);
                    if (_stops is not null)
                    {
                        StopStringResult r = _stops.Append(tail);
                        tail = r.Stopped ? r.Text : r.Text + _stops.Flush();
                        if (r.Stopped) reason = ServingFinishReason.Stop;
                    }
                    _call.Write(new ServingDelta(_choice, tail, -1, null, reason));
                }
                return (usage, result.CachedTokens);
            }
            finally
            {
                // the engine failed the request: it still ends in exactly one outcome (aborted), with its latency
                if (!finished) tracker.Finished(FinishReason.Aborted, _count);
                Interlocked.Decrement(ref _owner._outstanding);
            }
        }
    }

    private static ServingFinishReason Map(FinishReason f) => f switch
    {
        FinishReason.Stop => ServingFinishReason.Stop,
        FinishReason.Length => ServingFinishReason.Length,
        FinishReason.Cancelled => ServingFinishReason.Cancelled,
        FinishReason.Deadline => ServingFinishReason.Deadline,
        _ => ServingFinishReason.Aborted,
    };

    /// <summary>Stops the engine loop (unfinished requests end cancelled) and releases the model.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _loop.Dispose();
        _created?.Dispose();
        _pool.Dispose();
        _model.Dispose();
        if (_ownsMetrics) _metrics.Dispose();
    }
}
