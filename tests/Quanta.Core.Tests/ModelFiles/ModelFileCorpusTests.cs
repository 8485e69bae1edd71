namespace Quanta.Core.Tests.ModelFiles;

public class ModelFileCorpusTests
{
    /// <summary>
    /// The committed fuzz corpus equals what the writers produce today (so writer output is deterministic
    /// and the corpus is not hand-edited). QUANTA_REGENERATE_CORPUS=1 rewrites the files instead.
    /// </summary>
    [Fact]
    public void Committed_corpus_matches_the_writers()
    {
        string folder = ModelFileCorpus.Folder();
        Dictionary<string, byte[]> expected = ModelFileCorpus.Generate();
        if (Environment.GetEnvironmentVariable("QUANTA_REGENERATE_CORPUS") == "1")
            foreach (var (name, bytes) in expected) File.WriteAllBytes(Path.Combine(folder, name), bytes);
        foreach (var (name, bytes) in expected)
        {
            string path = Path.Combine(folder, name);
            Assert.True(File.Exists(path), $"corpus file {path} missing; run with QUANTA_REGENERATE_CORPUS=1");
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"corpus file {path} differs from the writer's output");
            Assert.True(bytes.Length < 4096, $"corpus file {name} has {bytes.Length} bytes; keep the corpus small");
        }
        Assert.Equal(expected.Keys.Order(), Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }
}
