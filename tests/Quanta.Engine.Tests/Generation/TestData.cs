namespace Quanta.Engine.Tests.Generation;

/// <summary>Finds files under the shared test-data folder above the test binaries; a missing file fails naming it.</summary>
internal static class TestData
{
    public static string Get(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"test data file missing: shared/{relative}");
    }

    public static string Stories => Get("testdata/llama2c/stories260K.bin");

    public static string Tok512 => Get("testdata/llama2c/tok512.bin");

    /// <summary>llama2.c's published greedy sample (run.c prints the text, then "\n").</summary>
    public static string GreedyText => File.ReadAllText(Get("testdata/llama2c/stories260K.greedy.txt"));
}
