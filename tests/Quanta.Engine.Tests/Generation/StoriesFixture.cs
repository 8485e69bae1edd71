using Quanta.Engine.Generation;

namespace Quanta.Engine.Tests.Generation;

/// <summary>stories260K.bin + tok512.bin loaded once per test class (requests on one model run one at a time).</summary>
public sealed class StoriesFixture : IDisposable
{
    public LlmModel Model { get; } = LlmModel.Load(TestData.Stories, new LlmLoadOptions { TokenizerPath = TestData.Tok512, Threads = 2 });

    public void Dispose() => Model.Dispose();
}
