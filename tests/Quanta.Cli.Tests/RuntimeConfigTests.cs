using System.Text.Json;

namespace Quanta.Cli.Tests;

public class RuntimeConfigTests
{
    [Fact]
    public void Thread_pool_workers_do_not_spin_beside_the_compute_threads()
    {
        // quanta.runtimeconfig.json is copied next to the tests with the CLI (CliProcess runs it from there)
        string path = Path.Combine(AppContext.BaseDirectory, "quanta.runtimeconfig.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement props = doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, props.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}
