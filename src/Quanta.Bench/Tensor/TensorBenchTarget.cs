using Quanta.Engine.Tensor;
using Quanta.Models.Embeddings;
using Quanta.Models.Recommendation;
using Quanta.Models.Vision;

namespace Quanta.Bench.Tensor;

/// <summary>
/// One model under test: the served <see cref="ITensorModel"/> and a source of one-sample queries (MLPerf's "sample":
/// one image, one sentence, one user-item pair). Query inputs are drawn up front from a seeded pool so that making a
/// query costs nothing measurable.
/// </summary>
public sealed class TensorBenchTarget
{
    private readonly InferenceRequest[] _pool;
    private int _next;

    /// <summary>Creates a target with a pool of prepared one-sample queries.</summary>
    public TensorBenchTarget(string name, string unit, ITensorModel model, IReadOnlyList<InferenceRequest> queryPool, double defaultLatencyBoundMs)
    {
        ArgumentNullException.ThrowIfNull(queryPool);
        if (queryPool.Count == 0) throw new ArgumentException("the query pool is empty", nameof(queryPool));
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Unit = unit ?? throw new ArgumentNullException(nameof(unit));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        _pool = [.. queryPool];
        DefaultLatencyBoundMs = defaultLatencyBoundMs;
    }

    /// <summary>Target name, e.g. "resnet18-int8".</summary>
    public string Name { get; }
    /// <summary>What a sample is, plural ("images", "sentences", "samples").</summary>
    public string Unit { get; }
    /// <summary>The model as the server runs it.</summary>
    public ITensorModel Model { get; }
    /// <summary>Server-scenario latency bound used when none is given.</summary>
    public double DefaultLatencyBoundMs { get; }

    /// <summary>The next one-sample query (cycling through the pool; thread-safe).</summary>
    public InferenceRequest NextQuery() => _pool[(int)((uint)Interlocked.Increment(ref _next) % (uint)_pool.Length)];

    /// <summary>Names <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> KnownNames { get; } = ["resnet18", "resnet18-int8", "minilm-16", "minilm-128", "dlrm"];

    /// <summary>
    /// Builds a known target: "resnet18" / "resnet18-int8" (ML.NET's ResNet-18 featurizer from
    /// <paramref name="resnetFolder"/>, a DnnImageModels folder; random 224×224 images; INT8 calibrated on 4 of them),
    /// "minilm-16" / "minilm-128" (the built-in all-MiniLM-L6-v2, random WordPiece ids, 16 or 128 tokens with [CLS] and
    /// [SEP]), "dlrm" (<see cref="DlrmBenchModel"/> with the default shape).
    /// </summary>
    public static TensorBenchTarget Create(string name, string? resnetFolder, int seed, int maxBatchSize)
    {
        var r = new Random(seed);
        const int pool = 64;
        switch (name)
        {
            case "resnet18":
            case "resnet18-int8":
            {
                string dir = resnetFolder ?? DefaultResNetFolder;
                if (!File.Exists(Path.Combine(dir, "ResNet18Onnx", "ResNet18.onnx")))
                    throw new FileNotFoundException($"ResNet-18 not found under {dir} (give --resnet-dir: the DnnImageModels folder of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package)");
                var featurizer = ImageFeaturizer.LoadResNet18(dir);
                var images = new float[16][];
                for (int i = 0; i < images.Length; i++)
                {
                    images[i] = new float[3 * 224 * 224];
                    for (int j = 0; j < images[i].Length; j++) images[i][j] = r.Next(256);
                }
                if (name == "resnet18-int8") featurizer.QuantizeInt8(images.Take(4));
                var model = new ImageFeaturizerTensorModel(featurizer, name, maxBatchSize);
                var q = images.Select(x => new InferenceRequest([InferenceTensor.FromFloats(ImageFeaturizerTensorModel.ImageInput, [1, 3, 224, 224], x)])).ToArray();
                return new TensorBenchTarget(name, "images", model, q, 100);
            }
            case "minilm-16":
            case "minilm-128":
            {
                int tokens = name == "minilm-16" ? 16 : 128;
                var embedding = EmbeddingModel.LoadDefault();
                var model = new EmbeddingTensorModel(embedding, name, maxBatchSize);
                int vocab = embedding.Tokenizer.VocabularySize;
                var q = new InferenceRequest[pool];
                for (int i = 0; i < pool; i++)
                {
                    var ids = new long[tokens - 2]; // [CLS] and [SEP] are added by the model
                    for (int j = 0; j < ids.Length; j++) ids[j] = 1000 + r.Next(vocab - 1000);
                    q[i] = new InferenceRequest([InferenceTensor.FromLongs(EmbeddingTensorModel.IdsInput, TensorDataType.Int64, [1, ids.Length], ids)]);
                }
                return new TensorBenchTarget(name, "sentences", model, q, tokens == 16 ? 50 : 200);
            }
            case "dlrm":
            {
                var shape = new DlrmBenchShape();
                var model = new DlrmTensorModel(DlrmModel.FromBytes(DlrmBenchModel.Build(shape, seed), "dlrm-bench"), name, Math.Max(maxBatchSize, 1));
                var q = new InferenceRequest[pool];
                for (int i = 0; i < pool; i++)
                {
                    var (dense, sparse) = DlrmBenchModel.Inputs(shape, 1, r);
                    q[i] = new InferenceRequest([
                        InferenceTensor.FromFloats("dense", [1, CriteoFeatures.DenseCount], dense),
                        InferenceTensor.FromLongs("sparse", TensorDataType.Int64, [1, CriteoFeatures.SparseCount, shape.Bag], sparse)]);
                }
                return new TensorBenchTarget(name, "samples", model, q, 30);
            }
            default:
                throw new ArgumentException($"unknown tensor benchmark model '{name}' (known: {string.Join(", ", KnownNames)})");
        }
    }

    /// <summary>Where the ResNet-18 package's models are when NuGet restored it: $NUGET_PACKAGES or ~/.nuget/packages.</summary>
    public static string DefaultResNetFolder
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(root, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels");
        }
    }
}
