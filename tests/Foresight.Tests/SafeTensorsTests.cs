using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Tests;

public sealed class SafeTensorsTests
{
    [Fact]
    public void File_layout_is_the_safetensors_format_byte_for_byte()
    {
        using var temp = new TempDirectory();
        using var x = tensor(new float[] { 1f, 2f }, [2]);
        SafeTensors.Write(temp["x.safetensors"], new Dictionary<string, Tensor> { ["x"] = x });

        byte[] bytes = File.ReadAllBytes(temp["x.safetensors"]);
        string json = """{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
        int padded = (json.Length + 7) / 8 * 8;
        Assert.Equal((ulong)padded, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(json.PadRight(padded), Encoding.UTF8.GetString(bytes, 8, padded));
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40 }, bytes[(8 + padded)..]); // 1.0f, 2.0f little-endian
    }

    [Fact]
    public void Tensors_of_every_supported_dtype_round_trip()
    {
        using var temp = new TempDirectory();
        manual_seed(1);
        var written = new Dictionary<string, Tensor>
        {
            ["f32"] = randn(3, 4),
            ["f64"] = randn(2, 2, 2, dtype: ScalarType.Float64),
            ["bf16"] = randn(5, dtype: ScalarType.BFloat16),
            ["i64"] = arange(6, dtype: ScalarType.Int64).view(2, 3),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(3.5f),
        };
        SafeTensors.Write(temp["all.safetensors"], written, new Dictionary<string, string> { ["note"] = "test" });
        var read = SafeTensors.Read(temp["all.safetensors"]);

        Assert.Equal(written.Keys.Order(), read.Keys.Order());
        foreach (var (name, original) in written)
        {
            Assert.Equal(original.dtype, read[name].dtype);
            Assert.Equal(original.shape, read[name].shape);
            Assert.True(original.eq(read[name]).all().item<bool>(), $"{name} changed");
        }
        Assert.Equal("test", Header(temp["all.safetensors"])["__metadata__"]!["note"]!.GetValue<string>());
    }

    private static JsonObject Header(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return JsonNode.Parse(bytes.AsSpan(8, length))!.AsObject();
    }

    [Fact]
    public void Malformed_files_are_clear_errors()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["short"], [1, 2, 3]);
        Assert.Contains("too short", Assert.ThrowsAny<UserError>(() => SafeTensors.Read(temp["short"])).Message);

        var tooLong = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(tooLong, 1000);
        File.WriteAllBytes(temp["long"], tooLong);
        Assert.Contains("runs past the end", Assert.ThrowsAny<UserError>(() => SafeTensors.Read(temp["long"])).Message);

        byte[] json = Encoding.UTF8.GetBytes("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}""");
        var truncated = new byte[8 + json.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(truncated, (ulong)json.Length);
        json.CopyTo(truncated, 8);
        File.WriteAllBytes(temp["truncated"], truncated);
        Assert.Contains("'w' (F32 4) needs 16 bytes", Assert.ThrowsAny<UserError>(() => SafeTensors.Read(temp["truncated"])).Message);
    }

    [Fact]
    public void Exported_run_loads_back_into_a_fresh_model_with_the_same_scores()
    {
        using var temp = new TempDirectory();
        var train = Cli.Run(["train", "--method", "ntp", "--out", temp["run"], .. Cli.TinyRun]);
        Assert.True(train.ExitCode == 0, train.Stderr);
        var export = Cli.Run("export", "--run", temp["run"], "--format", "safetensors");
        Assert.True(export.ExitCode == 0, export.Stderr);
        string file = Path.Combine(temp["run"], "model.safetensors");
        Assert.Equal(2, Cli.Run("export", "--run", temp["run"]).ExitCode); // never overwrites

        var run = RunDirectory.Open(temp["run"]);
        var config = run.ReadConfig();
        var task = config.Task.Build();
        using var test = Trainer.MakeTestSet(task, config.Training);
        using var fresh = Trainer.BuildMethod(config with { Training = config.Training with { Seed = 12 } });
        SafeTensors.LoadInto(fresh.Model, file);
        var scores = Evaluation.Evaluator.Evaluate(fresh, task, test);
        Assert.Equal(run.ReadSummary()["teacher_forced_accuracy"]!.GetValue<double>(), scores.TeacherForcedAccuracy, 12);

        using var wider = Trainer.BuildMethod(config with { Model = config.Model with { Width = 64 } });
        Assert.Contains("but the model has", Assert.ThrowsAny<UserError>(() => SafeTensors.LoadInto(wider.Model, file)).Message);
    }
}
