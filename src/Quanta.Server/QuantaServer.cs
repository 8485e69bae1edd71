using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quanta.Core.Devices;
using Quanta.Engine.Energy;
using Quanta.Engine.Generation;
using Quanta.Engine.Metrics;
using Quanta.Engine.Serving;
using Quanta.Engine.Tensor;
using Quanta.Models.Embeddings;
using Quanta.Server.Oip;

namespace Quanta.Server;

/// <summary>Where the server is in its life.</summary>
public enum ServerState
{
    /// <summary>Listening (health answers) while models load; other requests get 503.</summary>
    Loading,

    /// <summary>Serving.</summary>
    Ready,

    /// <summary>Finishing running requests; new ones get 503.</summary>
    Draining,

    /// <summary>Stopped.</summary>
    Stopped,
}

/// <summary>
/// The OpenAI-compatible HTTP server: Kestrel on <see cref="ServerOptions.Host"/>:<see cref="ServerOptions.Port"/> with
/// one <see cref="ServingEngine"/> per model. Endpoints: POST /v1/chat/completions, POST /v1/completions,
/// GET /v1/models, POST /tokenize, POST /detokenize, GET /health (liveness), GET /ready (readiness: 503 while loading
/// or draining), GET /metrics (Prometheus text, docs/metrics.md).
/// <para>Metrics: one <see cref="ServingMetrics"/> per server, shared by every model (series labelled model_name); its
/// power source and price come from <see cref="ServerOptions.Device"/> in the device catalog, overridden by
/// <see cref="ServerOptions.BusyWatts"/> / <see cref="ServerOptions.IdleWatts"/> / <see cref="ServerOptions.DollarsPerHour"/>.
/// Every response's usage carries that request's energy_joules and cost_usd. Like vLLM, GET /metrics is open: it needs
/// no API key even when keys are configured, and answers while loading or draining; bind to a private address or put a
/// proxy in front if the figures must not be public.</para>
/// <para>Every request (but the probes and /metrics): an id (X-Request-Id, echoed; generated when absent) logged with method, path, status and time;
/// CORS headers for the configured origins; 503 unless ready (except /health, /ready); 401 without a configured key
/// (compared in constant time over SHA-256 digests); 429 with Retry-After past a key's token bucket or when the model's
/// queue is full; 413 past the body limit; errors as OpenAI's {"error": {message, type, param, code}}.</para>
/// <para><see cref="DrainAsync"/> (SIGTERM / Ctrl+C under <see cref="RunAsync"/>) stops accepting (503), lets running
/// requests finish (at most <see cref="ServerOptions.DrainTimeoutSeconds"/>), then stops.</para>
/// </summary>
public sealed class QuantaServer : IAsyncDisposable
{
    private static readonly Action<ILogger, string, string, string, int, double, Exception?> LogRequest =
        LoggerMessage.Define<string, string, string, int, double>(LogLevel.Information, new EventId(1, "request"), "{RequestId} {Method} {Path} -> {Status} in {Ms:F1} ms");
    private static readonly Action<ILogger, string, Exception?> LogFailure =
        LoggerMessage.Define<string>(LogLevel.Error, new EventId(2, "failure"), "{RequestId} failed");

    /// <summary>Id of the built-in embedding model served when no --model is given.</summary>
    public const string DefaultEmbeddingModelId = "all-MiniLM-L6-v2";

    private readonly ConcurrentDictionary<string, ServingEngine> _engines = new(StringComparer.Ordinal);
    private readonly TensorModelRegistry _tensors = new();
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly byte[][] _keyDigests;
    private WebApplication? _app;
    private ServingMetrics? _metrics;
    private ILogger _log = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private int _inFlight;
    private volatile ServerState _state = ServerState.Loading;

    /// <summary>Creates a server (nothing starts before <see cref="StartAsync"/>).</summary>
    public QuantaServer(ServerOptions options)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _keyDigests = options.ApiKeys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
    }

    /// <summary>The options in force.</summary>
    public ServerOptions Options { get; }

    /// <summary>Current state.</summary>
    public ServerState State => _state;

    /// <summary>Loaded models by id.</summary>
    public IReadOnlyDictionary<string, ServingEngine> Engines => _engines;

    /// <summary>Tensor models (embeddings, ONNX graphs) by name, each behind its dynamic batcher.</summary>
    public ITensorModelRegistry TensorModels => _tensors;

    /// <summary>When the server started.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>http://host:port (the actual port when <see cref="ServerOptions.Port"/> is 0).</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The metrics recorder shared by every model (created by <see cref="StartAsync"/>).</summary>
    public ServingMetrics Metrics => _metrics ?? throw new InvalidOperationException("the server has not been started");

    /// <summary>Requests being handled (health checks and /metrics excluded).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Binds the port, then loads every model; ready when it returns.</summary>
    /// <exception cref="ArgumentException">A bad option, or a model that cannot be loaded.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Options.Validate();
        StartedAt = DateTimeOffset.UtcNow;
        _metrics ??= CreateMetrics(Options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (Options.Logging)
        {
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        }
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();   // SIGTERM / Ctrl+C drain (RunAsync), not stop at once
        IPAddress address = Options.Host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(Options.Host, out IPAddress? a) ? a : throw new ArgumentException($"--host must be an IP address or localhost, got '{Options.Host}'");
        // Streaming writes hand their bytes to the socket on the writing thread instead of queueing the send to another
        // thread pool item: one thread wake less per streamed token. Socket completions still arrive on the thread pool
        // (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS is not set), so request handlers never run on the epoll thread.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = true);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = Options.MaxRequestBytes;
            k.Listen(address, Options.Port);
        });
        WebApplication app = builder.Build();
        _app = app;
        _log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Quanta.Server");
        app.Use(Pipeline);
        app.MapGet("/health", UtilityEndpoints.HealthAsync);
        app.MapGet("/ready", ctx => UtilityEndpoints.ReadyAsync(ctx, this));
        app.MapGet("/metrics", ctx => UtilityEndpoints.MetricsAsync(ctx, Metrics));
        app.MapGet("/v1/models", ctx => UtilityEndpoints.ModelsAsync(ctx, this));
        app.MapPost("/v1/chat/completions", ctx => ChatEndpoint.HandleAsync(ctx, this));
        app.MapPost("/v1/completions", ctx => CompletionsEndpoint.HandleAsync(ctx, this));
        app.MapPost("/tokenize", ctx => UtilityEndpoints.TokenizeAsync(ctx, this));
        app.MapPost("/detokenize", ctx => UtilityEndpoints.DetokenizeAsync(ctx, this));
        app.MapPost("/v1/embeddings", ctx => EmbeddingsEndpoint.HandleAsync(ctx, _tensors));
        OipEndpoints.Map(app, _tensors);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string bound = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(bound.EndsWith('/') ? bound : bound + "/");
        try
        {
            await Task.Run(LoadModels, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
        _state = ServerState.Ready;
    }

    private void LoadModels()
    {
        // Tensor models are batched dynamically: up to 32 inputs per run, waiting at most 2 ms for company.
        var batching = new DynamicBatcherOptions { PreferredBatchSizes = [8, 16, 32], MaxQueueDelayMicroseconds = 2000, MaxConcurrency = 1, MaxQueueSize = Math.Max(1, Options.MaxQueue) * 16 };
        if (Options.Models.Count == 0)
            _tensors.Add(new EmbeddingTensorModel(EmbeddingModel.LoadDefault(), DefaultEmbeddingModelId), batching);
        foreach (ModelSpec spec in Options.Models)
        {
            if (Directory.Exists(spec.Path) && File.Exists(Path.Combine(spec.Path, "ResNet18Onnx", "ResNet18.onnx")))
            {
                // ML.NET's DnnImageModels folder: ResNet-18 featurizer taking encoded images or pixels (OIP v2)
                _tensors.Add(new ImageFeaturizerTensorModel(Quanta.Models.Vision.ImageFeaturizer.LoadResNet18(spec.Path), spec.ResolvedId), batching);
                continue;
            }
            if (spec.Path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                _tensors.Add(GraphTensorModel.Load(spec.Path, spec.ResolvedId), batching);
                continue;
            }
            bool ownTokenizer = Directory.Exists(spec.Path) || spec.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
            var engine = ServingEngine.Load(spec.ResolvedId, spec.Path, new ServingOptions
            {
                TokenizerPath = spec.Tokenizer ?? (ownTokenizer ? null : Options.Tokenizer),
                ContextLength = Options.ContextLength,
                Threads = Options.Threads,
                KvCacheBlocks = Options.KvCacheBlocks,
                KvCacheMegabytes = Options.KvCacheMb,
                KvCacheType = Options.KvCacheType,
                Residency = Options.Mmap ? Quanta.Core.ModelFiles.FileResidency.Mapped : null,
                MaxRunning = Options.MaxRunning,
                MaxQueue = Options.MaxQueue,
                MaxBatchTokens = Options.MaxBatchTokens,
                Metrics = Metrics,
                WrapExecutor = Options.WrapExecutor,
                CreateExecutor = Options.CreateExecutor,
                ExecutorKvStorage = Options.CreateExecutor is null ? null : Options.ExecutorKvStorage,
            });
            _engines[engine.Id] = engine;
        }
    }

    /// <summary>
    /// The server's recorder: the catalog device's power source (RAPL where readable, else its power model) and price,
    /// or the power model with the configured watts when either is given, and the configured $/hour when given.
    /// </summary>
    internal static ServingMetrics CreateMetrics(ServerOptions options)
    {
        DevicePowerSpec device = options.Device is null ? DevicePowerCatalog.ThisCpu
            : DevicePowerCatalog.Find(options.Device) ?? throw new ArgumentException($"unknown device '{options.Device}'");
        IPowerSource? source = options.PowerSource;
        if (source is null && (options.BusyWatts is not null || options.IdleWatts is not null))
        {
            double busy = options.BusyWatts ?? device.BusyWatts;
            double idle = options.IdleWatts ?? Math.Min(device.IdleWatts.Value, busy);
            source = new ModeledPowerSource(new PowerModel(idle, Math.Max(idle, busy)), "model:configured");
        }
        return new ServingMetrics(new ServingMetricsOptions { Device = device, PowerSource = source, PriceUsdPerHour = options.DollarsPerHour });
    }

    /// <summary>The engine serving <paramref name="model"/> (404 when unknown; null/empty picks the only model).</summary>
    internal ServingEngine FindModel(string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            if (_engines.Count == 1) return _engines.Values.First();
            throw ApiException.BadParam("model", "model is required");
        }
        return _engines.TryGetValue(model, out ServingEngine? e) ? e
            : throw new ApiException(404, $"The model '{model}' does not exist. Models: {string.Join(", ", _engines.Keys)}", "invalid_request_error", "model", "model_not_found");
    }

    /// <summary>Submits to <paramref name="engine"/>, mapping its refusals to API errors.</summary>
    internal ServingCall Submit(ServingEngine engine, ServingRequest request, string promptParam, CancellationToken ct)
    {
        try
        {
            return engine.Submit(request, ct);
        }
        catch (QueueFullException e)
        {
            throw new ApiException(429, e.Message, "rate_limit_error", null, "queue_full") { RetryAfterSeconds = Options.QueueRetryAfterSeconds };
        }
        catch (ContextLengthExceededException e)
        {
            throw new ApiException(400, $"This model's maximum context length is {engine.ContextLength} tokens; the prompt has {e.PromptTokens} tokens and leaves no room to generate.",
                "invalid_request_error", promptParam, "context_length_exceeded");
        }
        catch (ArgumentException e)
        {
            throw new ApiException(400, e.Message.Split(" (Parameter", 2)[0], "invalid_request_error", null, "invalid_value");
        }
    }

    private async Task Pipeline(HttpContext ctx, RequestDelegate next)
    {
        long t0 = Stopwatch.GetTimestamp();
        string requestId = ctx.Request.Headers["X-Request-Id"].ToString();
        if (requestId.Length is 0 or > 128 || requestId.Any(c => c is < '!' or > '~')) requestId = Guid.NewGuid().ToString("N");
        ctx.Response.Headers["X-Request-Id"] = requestId;
        ctx.TraceIdentifier = requestId;
        string path = ctx.Request.Path.Value ?? "";
        bool probe = path is "/health" or "/ready" or "/metrics";   // open: no key, no 503, not counted in flight
        if (!probe) Interlocked.Increment(ref _inFlight);
        try
        {
            if (Cors(ctx)) return;
            if (!probe) Admit(ctx);
            await next(ctx).ConfigureAwait(false);
        }
        catch (ApiException e) when (!ctx.Response.HasStarted)
        {
            await Http.WriteErrorAsync(ctx, e).ConfigureAwait(false);
        }
        catch (Exception) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // the client went away: nothing to answer
        }
#pragma warning disable CA1031 // last-resort handler: answer 500 in OpenAI's format and log
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFailure(_log, requestId, e);
            if (!ctx.Response.HasStarted)
                await Http.WriteErrorAsync(ctx, new ApiException(500, "internal server error: " + e.Message, "server_error")).ConfigureAwait(false);
        }
        finally
        {
            if (!probe) Interlocked.Decrement(ref _inFlight);
            LogRequest(_log, requestId, ctx.Request.Method, path, ctx.Response.StatusCode, Stopwatch.GetElapsedTime(t0).TotalMilliseconds, null);
        }
    }

    // CORS for configured origins; true when a preflight was answered.
    private bool Cors(HttpContext ctx)
    {
        if (Options.CorsOrigins.Count == 0) return false;
        string origin = ctx.Request.Headers.Origin.ToString();
        if (origin.Length == 0) return false;
        bool any = Options.CorsOrigins.Contains("*");
        if (!any && !Options.CorsOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase)) return false;
        var h = ctx.Response.Headers;
        h.AccessControlAllowOrigin = any ? "*" : origin;
        h.Vary = "Origin";
        h.AccessControlExposeHeaders = "X-Request-Id, Retry-After";
        if (!HttpMethods.IsOptions(ctx.Request.Method)) return false;
        h.AccessControlAllowMethods = "GET, POST, OPTIONS";
        h.AccessControlAllowHeaders = "Authorization, Content-Type, X-Request-Id";
        h.AccessControlMaxAge = "600";
        ctx.Response.StatusCode = 204;
        return true;
    }

    // 503 unless ready, 401 without a valid key, 429 past the key's rate limit.
    private void Admit(HttpContext ctx)
    {
        ServerState s = _state;
        if (s != ServerState.Ready)
            throw new ApiException(503, s == ServerState.Loading ? "the server is loading its models" : "the server is shutting down",
                "service_unavailable", null, s == ServerState.Loading ? "loading" : "draining") { RetryAfterSeconds = 5 };
        string key = "";
        if (_keyDigests.Length > 0)
        {
            string auth = ctx.Request.Headers.Authorization.ToString();
            const string bearer = "Bearer ";
            key = auth.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? auth[bearer.Length..].Trim() : "";
            byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            bool ok = false;
            foreach (byte[] d in _keyDigests) ok |= CryptographicOperations.FixedTimeEquals(d, digest);
            if (!ok)
                throw new ApiException(401, key.Length == 0 ? "missing API key: send Authorization: Bearer KEY" : "incorrect API key provided",
                    "authentication_error", null, "invalid_api_key");
        }
        if (Options.RateLimitPerMinute > 0)
        {
            double perSecond = Options.RateLimitPerMinute / 60;
            double burst = Options.RateLimitBurst > 0 ? Options.RateLimitBurst : Math.Max(1, Options.RateLimitPerMinute / 6);
            TokenBucket bucket = _buckets.GetOrAdd(key, _ => new TokenBucket(burst, perSecond, TimeProvider.System));
            if (!bucket.TryTake(out TimeSpan wait))
                throw new ApiException(429, "rate limit reached for this API key", "rate_limit_error", null, "rate_limit_exceeded")
                { RetryAfterSeconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) };
        }
    }

    /// <summary>
    /// Stops accepting (new requests get 503), waits for running requests to finish (at most
    /// <see cref="ServerOptions.DrainTimeoutSeconds"/>; the rest are cancelled when the engines stop), then stops.
    /// </summary>
    public async Task DrainAsync()
    {
        if (_state is ServerState.Draining or ServerState.Stopped) return;
        _state = ServerState.Draining;
        var deadline = Stopwatch.StartNew();
        while (InFlight > 0 && deadline.Elapsed.TotalSeconds < Options.DrainTimeoutSeconds)
            await Task.Delay(20).ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Starts, then serves until SIGTERM or Ctrl+C (SIGINT), then drains. Returns the exit code (0).</summary>
    public async Task<int> RunAsync()
    {
        var signalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true;
            signalled.TrySetResult();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        await StartAsync().ConfigureAwait(false);
        Console.Error.WriteLine($"quanta: serving {string.Join(", ", _engines.Keys.Concat(_tensors.Names))} at {BaseAddress} (Ctrl+C to stop)");
        await signalled.Task.ConfigureAwait(false);
        Console.Error.WriteLine("quanta: draining: finishing running requests");
        await DrainAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>Stops the HTTP server and the engines (unfinished requests end cancelled).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_state == ServerState.Stopped) return;
        _state = ServerState.Stopped;
        if (_app is not null)
        {
            await _app.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        foreach (ServingEngine e in _engines.Values) e.Dispose();
        _engines.Clear();
        await _tensors.DisposeAsync().ConfigureAwait(false);
        _metrics?.Dispose();
    }

    private sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
