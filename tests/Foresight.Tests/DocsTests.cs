using System.CommandLine;
using System.Text.RegularExpressions;
using Foresight.Cli;

namespace Foresight.Tests;

/// <summary>The documentation: every relative link and image resolves, and docs/cli.md documents every command and flag.</summary>
public sealed partial class DocsTests
{
    private static IEnumerable<string> MarkdownFiles() =>
        new[] { Repository.PathOf("README.md") }.Concat(Directory.EnumerateFiles(Repository.PathOf("docs"), "*.md", SearchOption.AllDirectories));

    [GeneratedRegex(@"!?\[[^\]]*\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [Fact]
    public void Every_relative_link_and_image_in_the_readme_and_docs_resolves()
    {
        var broken = new List<string>();
        foreach (string file in MarkdownFiles())
            foreach (Match link in Link().Matches(File.ReadAllText(file)))
            {
                string target = link.Groups[1].Value;
                if (Regex.IsMatch(target, "^(https?:|mailto:|#)")) continue;
                string path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, target.Split('#')[0]));
                if (!File.Exists(path) && !Directory.Exists(path)) broken.Add($"{Path.GetRelativePath(Repository.Root, file)}: {target}");
            }
        Assert.True(broken.Count == 0, "broken links:\n" + string.Join("\n", broken));
        Assert.True(File.ReadAllLines(Repository.PathOf("README.md")).Length <= 260, "README.md is a user's guide of at most ~250 lines");
    }

    [Fact]
    public void Docs_cli_has_a_section_for_every_command_naming_each_of_its_flags()
    {
        string cli = File.ReadAllText(Repository.PathOf("docs", "cli.md"));
        var missing = new List<string>();
        void Check(Command command, string path)
        {
            if (command.Subcommands.Count > 0)
            {
                foreach (var sub in command.Subcommands) Check(sub, $"{path} {sub.Name}");
                return;
            }
            int start = cli.IndexOf($"### {path}\n", StringComparison.Ordinal);
            if (start < 0) { missing.Add($"no section '### {path}'"); return; }
            int end = cli.IndexOf("\n### ", start + 4, StringComparison.Ordinal);
            string section = end < 0 ? cli[start..] : cli[start..end];
            foreach (var option in command.Options.Where(o => o.Name is not ("--help" or "-h" or "-?")))
                if (!Regex.IsMatch(section, $@"(^|[\s,]){Regex.Escape(option.Name)}[\s<]", RegexOptions.Multiline)) missing.Add($"{path}: {option.Name}");
        }
        foreach (var command in CommandTree.Root().Subcommands) Check(command, $"foresight {command.Name}");
        Assert.True(missing.Count == 0, "docs/cli.md lacks (tools/cli-reference regenerates its reference):\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Docs_building_layout_names_every_source_file_but_tasks_and_methods_and_no_folder_that_is_gone()
    {
        string doc = File.ReadAllText(Repository.PathOf("docs", "building.md"));
        int start = doc.IndexOf("## Layout", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/building.md has no '## Layout' section");
        int open = doc.IndexOf("```", start, StringComparison.Ordinal), close = doc.IndexOf("```", open + 3, StringComparison.Ordinal);
        string layout = doc[(open + 3)..close];
        var missing = new List<string>();
        foreach (string project in new[] { "Foresight", "Foresight.Cli" })
        {
            string root = Repository.PathOf("src", project);
            var sources = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));
            foreach (string file in sources)
            {
                string name = Path.GetFileNameWithoutExtension(file), folder = Path.GetFileName(Path.GetDirectoryName(file)!);
                // a task or a method is one file the registries find by its attribute; --task and --method list them
                bool registered = File.ReadAllText(file).Contains("[Task(", StringComparison.Ordinal) || File.ReadAllText(file).Contains("[Method(", StringComparison.Ordinal);
                if (!registered && !Regex.IsMatch(layout, $@"\b{Regex.Escape(name)}\b")) missing.Add($"{Path.GetRelativePath(Repository.Root, file)} is not named");
                if (folder != project && !layout.Contains($"{folder}/", StringComparison.Ordinal)) missing.Add($"folder {folder}/ is not named");
            }
        }
        foreach (Match folder in Regex.Matches(layout, @"^\s+([A-Z][A-Za-z]+)/", RegexOptions.Multiline))
            if (!Directory.Exists(Repository.PathOf("src", "Foresight", folder.Groups[1].Value))) missing.Add($"{folder.Groups[1].Value}/ does not exist");
        Assert.True(missing.Count == 0, "docs/building.md's layout is stale:\n" + string.Join("\n", missing.Distinct()));
    }

    [Fact]
    public void No_doc_experiment_file_or_source_cites_the_project_tracker_instead_of_a_source()
    {
        var files = MarkdownFiles()
            .Concat(Directory.EnumerateFiles(Repository.PathOf("experiments"), "*.json", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Repository.PathOf("src"), "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")));
        var cited = (from file in files
                     from line in File.ReadLines(file).Select((text, i) => (Text: text, Number: i + 1))
                     where Regex.IsMatch(line.Text, @"\bissues? #?\d+", RegexOptions.IgnoreCase)
                     select $"{Path.GetRelativePath(Repository.Root, file)}:{line.Number}: {line.Text.Trim()}").ToList();
        Assert.True(cited.Count == 0, "a user has no access to the project's issues; cite the paper, slide or figure:\n" + string.Join("\n", cited));
    }
}
