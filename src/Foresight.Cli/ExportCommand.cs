using System.CommandLine;
using Foresight.Runs;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

internal static class ExportCommand
{
    public static Command Create()
    {
        var command = new Command("export", "Write a run's weights in another format (safetensors, readable by the Python safetensors library)");
        var runOption = new Option<string>("--run") { Description = "run directory", Required = true };
        var format = new Option<string>("--format") { Description = "output format: safetensors", DefaultValueFactory = _ => "safetensors" };
        var output = new Option<string?>("--out") { Description = "file to write; must not exist (default: <run>/model.safetensors)" };
        command.Options.Add(runOption);
        command.Options.Add(format);
        command.Options.Add(output);

        command.SetAction(result =>
        {
            string formatName = result.GetValue(format)!;
            if (formatName != "safetensors") throw new UserError($"unknown export format '{formatName}' (known: safetensors)");
            var run = RunDirectory.Open(result.GetValue(runOption)!);
            string file = result.GetValue(output) ?? Path.Combine(run.Path, "model.safetensors");
            if (File.Exists(file)) throw new UserError($"'{file}' already exists; refusing to overwrite it");

            var (config, task, method) = Trainer.LoadTrained(run);
            using var _ = method;
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
