using System.CommandLine;
using System.Text.Json;
using Quanta.Cuda.Device;
using Quanta.Cuda.Energy;
using Quanta.Cuda.Execution;
using Quanta.Cuda.Interop;
using Quanta.Cuda.Kernels;
using Quanta.Models.KvCache;
using Quanta.Server;
using Quanta.Server.Protocol;

namespace Quanta.Cli;

/// <summary>
/// `quanta serve --model FILE | --model ID=FILE ... [--tokenizer FILE] [--host 127.0.0.1] [--port 8080] [--api-key KEY ...]
/// [--max-queue N] [--max-request-bytes N] [--max-tokens N] [--kv-cache-blocks N | --kv-cache-mb N] [--cache-type f16|f32|q8_0] [--cors-origin O ...]
/// [--config FILE]`: the OpenAI-compatible HTTP server (see <see cref="QuantaServer"/>). --config reads a JSON file with
/// the same options in snake_case; command-line values override it. SIGTERM / Ctrl+C drains and exits 0.
/// Without any model it serves the built-in embedding model all-MiniLM-L6-v2 (POST /v1/embeddings, Open Inference Protocol v2).
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string[]>("--model", "-m") { Description = "model to serve: PATH (id = file name without extension) or ID=PATH; repeatable. PATH: GGUF, llama2.c checkpoint, safetensors folder, .onnx graph, or ML.NET's DnnImageModels folder (ResNet-18 taking images)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer file for llama2.c checkpoints (e.g. tok512.bin)" };
        var host = new Option<string?>("--host") { Description = "address to bind (default 127.0.0.1: loopback only)" };
        var port = new Option<int?>("--port") { Description = "TCP port (default 8080)" };
        var apiKey = new Option<string[]>("--api-key") { Description = "accepted API key (Authorization: Bearer KEY); repeatable; none: no authentication" };
        var maxQueue = new Option<int?>("--max-queue") { Description = "sequences that may wait before requests get 429 (default 64)" };
        var maxBytes = new Option<long?>("--max-request-bytes") { Description = "largest request body (default 1048576)" };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "most tokens per choice and the default limit (default: the context's room)" };
        var kvBlocks = new Option<int?>("--kv-cache-blocks") { Description = "KV cache blocks of 16 tokens per model" };
        var kvMb = new Option<int?>("--kv-cache-mb") { Description = "KV cache size per model in MiB" };
        var mmap = GenerationCliOptions.MmapOption();
        var cacheType = new Option<string?>("--cache-type", "-ctk") { Description = "KV cache element type: f16 (default, as llama.cpp: half the memory), f32 (exact) or q8_0 (as llama.cpp's -ctk q8_0 -ctv q8_0: 8-bit codes and a scale per 32 values, 1.125 bytes per value; CPU only)" };
        var cors = new Option<string[]>("--cors-origin") { Description = "allowed CORS origin (\"*\" for any); repeatable" };
        var config = new Option<string?>("--config") { Description = "JSON file with these options (snake_case names)" };
        var threads = new Option<int?>("--threads", "-t") { Description = "worker threads per model (default: all cores)" };
        var context = new Option<int?>("--context", "-c") { Description = "context length in tokens (default: the model's, at most 4096)" };
        var gpu = new GpuCliOptions();
        var device = new Option<string?>("--device") { Description = "catalog device for the power model and price (e.g. h100-sxm; see quanta plan devices)" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("serve", "Serve models over an OpenAI-compatible HTTP API.");
        foreach (Option o in (Option[])[model, tokenizer, host, port, apiKey, maxQueue, maxBytes, maxTokens, kvBlocks, kvMb, cacheType, mmap, cors, config, threads, context, .. gpu.All, device, verbose])
            cmd.Add(o);
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            ServerOptions options = new();
            if (p.GetValue(config) is { } file)
            {
                if (!File.Exists(file)) throw new FileNotFoundException($"config file not found: {file}", file);
                try
                {
                    options = JsonSerializer.Deserialize(File.ReadAllBytes(file), ServerJsonContext.Default.ServerOptions)
                        ?? throw new ArgumentException($"{file}: the config must be a JSON object");
                }
                catch (JsonException e)
                {
                    throw new ArgumentException($"{file}: invalid config: {e.Message}", e);
                }
            }
            foreach (string m in p.GetValue(model) ?? []) options.Models.Add(ModelSpec.Parse(m));
            options.Tokenizer = p.GetValue(tokenizer) ?? options.Tokenizer;
            options.Host = p.GetValue(host) ?? options.Host;
            options.Port = p.GetValue(port) ?? options.Port;
            options.ApiKeys.AddRange(p.GetValue(apiKey) ?? []);
            options.MaxQueue = p.GetValue(maxQueue) ?? options.MaxQueue;
            options.MaxRequestBytes = p.GetValue(maxBytes) ?? options.MaxRequestBytes;
            options.MaxTokens = p.GetValue(maxTokens) ?? options.MaxTokens;
            options.KvCacheBlocks = p.GetValue(kvBlocks) ?? options.KvCacheBlocks;
            options.KvCacheMb = p.GetValue(kvMb) ?? options.KvCacheMb;
            options.CacheType = p.GetValue(cacheType) ?? options.CacheType;
            if (p.GetValue(mmap)) options.Mmap = true;
            options.CorsOrigins.AddRange(p.GetValue(cors) ?? []);
            options.Threads = p.GetValue(threads) ?? options.Threads;
            options.ContextLength = p.GetValue(context) ?? options.ContextLength;
            options.Device = p.GetValue(device) ?? options.Device;
            options.Validate();
            using GpuSession? session = gpu.Open(p, "serve");
            if (session is not null)
            {
                if (options.KvCacheType == KvCacheType.Q8_0)
                    throw new ArgumentException("--cache-type q8_0 is CPU only: the GPU executor keeps its KV cache in BF16 (use f16 or f32 with --gpu)");
                options.CreateExecutor = session.ExecutorFactory();
                options.ExecutorKvStorage = GpuServing.KvStorage;
                options.PowerSource = session.Power;
                Console.Error.WriteLine($"quanta serve: LLMs on {session.Backend.Accelerator.Name} in {session.Format}");
            }
            var server = new QuantaServer(options);
            try
            {
                return server.RunAsync().GetAwaiter().GetResult();
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }));
        return cmd;
    }
}
