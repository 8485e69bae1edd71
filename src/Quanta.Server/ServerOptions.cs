using System.Text.Json.Serialization;
using Quanta.Engine.Energy;
using Quanta.Engine.Execution;
using Quanta.Models.KvCache;

namespace Quanta.Server;

/// <summary>
/// Everything `quanta serve` can be told, on the command line or in a JSON --config file (same names, snake_case:
/// {"port": 8080, "api_keys": ["..."], "models": [{"id": "m", "path": "m.gguf"}]}). Defaults are usable as they are.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>Address to bind. Default 127.0.0.1 (loopback only).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one. Default 8080.</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Accepted API keys (Authorization: Bearer KEY); empty: no authentication.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>Models to serve.</summary>
    public List<ModelSpec> Models { get; set; } = [];

    /// <summary>Tokenizer for models that carry none (llama2.c checkpoints) and have no tokenizer of their own in <see cref="Models"/>.</summary>
    public string? Tokenizer { get; set; }

    /// <summary>Sequences that may wait beyond those running before requests get 429. Default 64.</summary>
    public int MaxQueue { get; set; } = 64;

    /// <summary>Sequences running at once per model. Default 16.</summary>
    public int MaxRunning { get; set; } = 16;

    /// <summary>Token budget of one engine step. Default 256.</summary>
    public int MaxBatchTokens { get; set; } = 256;

    /// <summary>Largest request body in bytes (larger: 413). Default 1 MiB.</summary>
    public long MaxRequestBytes { get; set; } = 1 << 20;

    /// <summary>Most tokens one choice may generate (and the default when a request gives no limit); 0: the context's room.</summary>
    public int MaxTokens { get; set; }

    /// <summary>KV cache blocks per model (16 tokens each); 0: from <see cref="KvCacheMb"/> or the engine default.</summary>
    public int KvCacheBlocks { get; set; }

    /// <summary>KV cache size per model in MiB (when <see cref="KvCacheBlocks"/> is 0); 0: the engine default.</summary>
    public int KvCacheMb { get; set; }

    /// <summary>
    /// Element type of the LLMs' KV cache: "f16" (default, as llama.cpp's: half the memory of f32, so twice the tokens
    /// fit in the same <see cref="KvCacheMb"/>, and half the bytes attention reads per step), "f32" (exact) or "q8_0"
    /// (llama.cpp's q8_0 cache: 8-bit codes with a scale per 32 values, 1.125 bytes per value; CPU only).
    /// </summary>
    public string CacheType { get; set; } = "f16";

    /// <summary><see cref="CacheType"/> as the engine's type; throws <see cref="ArgumentException"/> for anything but f16, f32 or q8_0.</summary>
    [JsonIgnore]
    public KvCacheType KvCacheType => KvCacheTypes.TryParse(CacheType?.Trim())
        ?? throw new ArgumentException($"--cache-type must be f16, f32 or q8_0, got '{CacheType}'");

    /// <summary>Map GGUF files (zero-copy, shared with the page cache) instead of copying their weights into 2 MiB
    /// pages (the default where the kernel offers huge pages and a file takes at most half the memory: faster decode,
    /// the file's size in private memory).</summary>
    public bool Mmap { get; set; }

    /// <summary>Context length per sequence; 0: min(the model's, 4096).</summary>
    public int ContextLength { get; set; }

    /// <summary>Worker threads per model; 0: all cores.</summary>
    public int Threads { get; set; }

    /// <summary>Origins allowed by CORS ("*" for any); empty: no CORS headers.</summary>
    public List<string> CorsOrigins { get; set; } = [];

    /// <summary>Per-key rate limit in requests per minute (token bucket); 0: off. Without API keys one bucket serves all.</summary>
    public double RateLimitPerMinute { get; set; }

    /// <summary>Token-bucket burst (requests allowed at once); 0: max(1, RateLimitPerMinute / 6).</summary>
    public int RateLimitBurst { get; set; }

    /// <summary>Seconds a client is told to wait (Retry-After) when the queue is full. Default 1.</summary>
    public int QueueRetryAfterSeconds { get; set; } = 1;

    /// <summary>Longest wait for running requests when draining, in seconds. Default 30.</summary>
    public int DrainTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Device the models run on, as an id or name of <see cref="Quanta.Core.Devices.DevicePowerCatalog"/> (its power
    /// figures and $/hour are the defaults of the energy and cost estimates); null: this machine's CPU entry.
    /// </summary>
    public string? Device { get; set; }

    /// <summary>
    /// Override of the device's busy power (watts while a step runs); null: the catalog's TDP. Giving this or
    /// <see cref="IdleWatts"/> selects the power model (energy labelled estimated) even where RAPL could measure.
    /// </summary>
    public double? BusyWatts { get; set; }

    /// <summary>Override of the device's idle power (watts; idle time is attributed to no request); null: the catalog's.</summary>
    public double? IdleWatts { get; set; }

    /// <summary>Override of the device price in US dollars per hour (cost_usd); null: the catalog's (none: no cost is reported).</summary>
    public double? DollarsPerHour { get; set; }

    /// <summary>Write a log line per request (to the console). Default true.</summary>
    public bool Logging { get; set; } = true;

    /// <summary>Wraps each model's executor (instrumentation, tests); not settable from JSON.</summary>
    [JsonIgnore]
    public Func<IExecutor, IExecutor>? WrapExecutor { get; set; }

    /// <summary>Builds each LLM's executor instead of the CPU one (the CLI's --device cuda); not settable from JSON.</summary>
    [JsonIgnore]
    public Func<ExecutorRequest, IExecutor>? CreateExecutor { get; set; }

    /// <summary>With <see cref="CreateExecutor"/>: the executor stores K/V itself in this element size (the engine keeps block tables only; see <c>ServingOptions.ExecutorKvStorage</c>); not settable from JSON.</summary>
    [JsonIgnore]
    public KvCacheType? ExecutorKvStorage { get; set; }

    /// <summary>Energy meter for the metrics instead of the catalog device's (NVML with --device cuda); not settable from JSON.</summary>
    [JsonIgnore]
    public IPowerSource? PowerSource { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("--host must not be empty");
        if (Port is < 0 or > 65535) throw new ArgumentException($"--port must be in 0..65535, got {Port}");
        if (MaxQueue < 0) throw new ArgumentException($"--max-queue must be >= 0, got {MaxQueue}");
        if (MaxRunning < 1) throw new ArgumentException($"max_running must be >= 1, got {MaxRunning}");
        if (MaxBatchTokens < 1) throw new ArgumentException($"max_batch_tokens must be >= 1, got {MaxBatchTokens}");
        if (MaxRequestBytes < 1) throw new ArgumentException($"--max-request-bytes must be >= 1, got {MaxRequestBytes}");
        if (MaxTokens < 0) throw new ArgumentException($"--max-tokens must be >= 0, got {MaxTokens}");
        if (KvCacheBlocks < 0) throw new ArgumentException($"--kv-cache-blocks must be >= 0, got {KvCacheBlocks}");
        if (KvCacheMb < 0) throw new ArgumentException($"--kv-cache-mb must be >= 0, got {KvCacheMb}");
        _ = KvCacheType;
        if (ContextLength < 0) throw new ArgumentException($"--context must be >= 0, got {ContextLength}");
        if (Threads < 0) throw new ArgumentException($"--threads must be >= 0, got {Threads}");
        if (RateLimitPerMinute < 0 || RateLimitBurst < 0) throw new ArgumentException("the rate limit must be >= 0");
        if (BusyWatts < 0 || IdleWatts < 0 || DollarsPerHour < 0) throw new ArgumentException("power model values must be >= 0");
        if (BusyWatts is double b && IdleWatts is double i && i > b) throw new ArgumentException($"idle_watts ({i}) must not exceed busy_watts ({b})");
        if (Device is not null && Quanta.Core.Devices.DevicePowerCatalog.Find(Device) is null)
            throw new ArgumentException($"unknown device '{Device}'; known: {string.Join(", ", Quanta.Core.Devices.DevicePowerCatalog.All.Select(d => d.Id))}");
        // no --model: the built-in embedding model (all-MiniLM-L6-v2) is served; see QuantaServer.LoadModels
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (ModelSpec m in Models)
        {
            if (string.IsNullOrWhiteSpace(m.Path)) throw new ArgumentException("a model has no path");
            if (!ids.Add(m.ResolvedId)) throw new ArgumentException($"two models have the id '{m.ResolvedId}': name them with --model ID=PATH");
        }
        foreach (string k in ApiKeys)
            if (string.IsNullOrEmpty(k)) throw new ArgumentException("--api-key must not be empty");
    }
}

/// <summary>A model to serve: its file and the id requests use (default: the file name without extension).</summary>
public sealed class ModelSpec
{
    /// <summary>Id in requests ("model"); null: the file name without extension.</summary>
    public string? Id { get; set; }

    /// <summary>GGUF file, llama2.c checkpoint or safetensors folder.</summary>
    public string Path { get; set; } = "";

    /// <summary>Tokenizer file (llama2.c checkpoints); null: the model's own, else <see cref="ServerOptions.Tokenizer"/>.</summary>
    public string? Tokenizer { get; set; }

    /// <summary>The id in force.</summary>
    [JsonIgnore]
    public string ResolvedId => !string.IsNullOrEmpty(Id) ? Id
        : System.IO.Path.GetFileNameWithoutExtension(System.IO.Path.TrimEndingDirectorySeparator(Path));

    /// <summary>Parses a --model value: PATH or ID=PATH (an '=' before any path separator names the model).</summary>
    public static ModelSpec Parse(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        int eq = value.IndexOf('=', StringComparison.Ordinal);
        int sep = value.IndexOfAny(['/', '\\']);
        if (eq > 0 && (sep < 0 || eq < sep)) return new ModelSpec { Id = value[..eq], Path = value[(eq + 1)..] };
        return new ModelSpec { Path = value };
    }
}
