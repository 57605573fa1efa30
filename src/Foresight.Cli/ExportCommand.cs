using System.CommandLine;
using Foresight.Runs;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

internal static class ExportCommand
{
    public static Command Create()
    {
        var command = new Command("export", "Write a run's weights for Python: safetensors, or a PyTorch state_dict with nanoGPT's names and a config (tools/foresight_gpt.py rebuilds the model)");
        var runOption = new Option<string>("--run") { Description = "run directory", Required = true };
        var format = new Option<string>("--format") { Description = "safetensors (Foresight's names) or pytorch (torch.load; nanoGPT's names, config in FILE.json)", DefaultValueFactory = _ => "safetensors" };
        var output = new Option<string?>("--out") { Description = "file to write; must not exist (default: <run>/model.safetensors, <run>/model.pth)" };
        command.Options.Add(runOption);
        command.Options.Add(format);
        command.Options.Add(output);

        command.SetAction(result =>
        {
            string formatName = result.GetValue(format)!;
            if (formatName is not ("safetensors" or "pytorch")) throw new UserError($"unknown export format '{formatName}' (known: safetensors, pytorch)");
            var run = RunDirectory.Open(result.GetValue(runOption)!);
            string file = result.GetValue(output) ?? Path.Combine(run.Path, formatName == "pytorch" ? "model.pth" : "model.safetensors");
            if (File.Exists(file)) throw new UserError($"'{file}' already exists; refusing to overwrite it");
            if (formatName == "pytorch" && File.Exists(Path.ChangeExtension(file, ".json")))
                throw new UserError($"'{Path.ChangeExtension(file, ".json")}' already exists; refusing to overwrite it");

            var (config, task, method) = Trainer.LoadTrained(run);
            using var _ = method;
            if (formatName == "pytorch")
            {
                string configFile = PyTorchExport.Write(file, method.Model, config, task.Description);
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)} (torch.load; nanoGPT's names) and {Markup.Escape(configFile)}; " +
                                       $"python3 tools/foresight_gpt.py {Markup.Escape(file)} rebuilds the model");
                return 0;
            }
            var weights = method.Model.state_dict();
            SafeTensors.Write(file, weights, new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["method"] = config.Method,
                ["task"] = task.Description,
            });
            AnsiConsole.MarkupLine($"wrote {weights.Count} tensors ({weights.Values.Sum(t => t.numel()):N0} values) to {Markup.Escape(file)}");
            return 0;
        });
        return command;
    }
}
