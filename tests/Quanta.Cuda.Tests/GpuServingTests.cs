using Quanta.Cuda.Energy;
using Quanta.Cuda.Execution;
using Quanta.Cuda.Kernels;
using Quanta.Engine.Metrics;
using Quanta.Engine.Sampling;
using Quanta.Engine.Serving;
using Quanta.Tests.Shared;

namespace Quanta.Cuda.Tests;

/// <summary>
/// The serving engine (what `quanta serve --gpu` runs) with the GPU executor plugged in through
/// <see cref="GpuServing.ExecutorFactory"/>, on ILGPU's CPU accelerator: a real checkpoint (llama2.c stories260K)
/// served end to end, usage carrying the executor's measured energy, and the device weights freed with the engine.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class GpuServingTests(BackendFixture fx) : IClassFixture<BackendFixture>
{
    [Fact]
    public async Task Serving_engine_runs_a_checkpoint_on_the_GPU_executor_with_measured_energy()
    {
        double counter = 500;
        var power = new NvmlPowerSource(() => counter += 0.25, "fake-nvml");
        using var metrics = new ServingMetrics(new ServingMetricsOptions { PowerSource = power });
        GpuExecutor? created = null;
        var factory = GpuServing.ExecutorFactory(fx.Backend, new GpuWeightOptions(DeviceFormat.BF16), power);
        using (ServingEngine engine = ServingEngine.Load("stories", SharedData.Get("testdata/llama2c/stories260K.bin"), new ServingOptions
        {
            TokenizerPath = SharedData.Get("testdata/llama2c/tok512.bin"), Threads = 1, MaxRunning = 2, Metrics = metrics, ContextLength = 64,
            CreateExecutor = r => (GpuExecutor)(created = (GpuExecutor)factory(r)),
        }))
        {
            Assert.NotNull(created);
            int[] prompt = engine.Model.Tokenizer.Encode("Once upon a time", addSpecial: true, parseSpecial: false);
            var calls = Enumerable.Range(0, 2).Select(_ =>
                engine.Submit(new ServingRequest { Prompt = prompt, Sampling = new SamplingParameters { MaxTokens = 8, Temperature = 0 } })).ToList();
            var texts = new List<string>();
            foreach (ServingCall call in calls)
            {
                var text = new System.Text.StringBuilder();
                await foreach (ServingDelta d in call.ReadAllAsync()) text.Append(d.Text);
                texts.Add(text.ToString());
                ServingUsage usage = await call.Usage.WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(8, usage.CompletionTokens);
                Assert.True(usage.EnergyJoules > 0, $"energy {usage.EnergyJoules}");
                Assert.False(usage.EnergyEstimated);
            }
            // the same greedy prompt twice in one batch: identical text (the executor is batch-invariant per row)
            Assert.False(string.IsNullOrWhiteSpace(texts[0]));
            Assert.Equal(texts[0], texts[1]);
        }
        Assert.Throws<ObjectDisposedException>(() => created!.Execute(new Quanta.Engine.Execution.ExecutionBatch([])));
    }
}
