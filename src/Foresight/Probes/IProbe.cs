using Foresight.Methods;
using Foresight.Presentation;
using Foresight.Reports;
using Foresight.Runs;
using Foresight.Tasks;

namespace Foresight.Probes;

/// <summary>What a probe gets: the saved run, its config and task, its trained method (as its own method reads it) and the probe sizes.</summary>
public sealed record ProbeContext(RunDirectory Run, RunConfig Config, ITrainingMethod Method, ProbeSizes Sizes)
{
    public ITask Task => Config.Task.Build();
}

/// <summary>One number a results table shows for a probed run: a rate (shown as a percentage) or a count.</summary>
public sealed record ProbeColumn(string Header, Func<object, double?> Value, bool IsRate = true);

/// <summary>One column of report.md's table: its cell from the probe results of a row's seeds (those that have it).</summary>
public sealed record ReportColumn(string Header, Func<IReadOnlyList<object>, string> Cell);

/// <summary>A probe's own table, for `foresight probe NAME`: headers, rows, and an optional caption.</summary>
public sealed record ProbeTable(string[] Headers, IReadOnlyList<string[]> Rows, string? Caption = null);

/// <summary>The probe results of one report row: its name and, per probed seed, the result.</summary>
public sealed record ProbeSeries(string Name, IReadOnlyList<(int Seed, object Result)> Results);

/// <summary>A figure a probe adds to report.md, drawn from every row's results.</summary>
public sealed record ProbeFigure(string Title, string FileName, Action<string, IReadOnlyList<ProbeSeries>, IReadOnlyList<ReferenceLevel>> Draw);

/// <summary>
/// A diagnostic of a saved run. It says which runs it applies to, runs and returns a typed result (saved as
/// probe-&lt;name&gt;.json), and describes how it is shown: columns of the results table, columns and a section of
/// report.md, a figure and its own table. Tables and reports read these, never a probe's name.
/// </summary>
public interface IProbe
{
    string Name { get; }

    /// <summary>One line for `foresight probe --help`.</summary>
    string Description { get; }

    /// <summary>Whether the probe draws fresh examples (so `--examples` applies to it).</summary>
    bool TakesExamples { get; }

    /// <summary>The record its file holds.</summary>
    Type ResultType { get; }

    /// <summary>Null when the probe applies to this run; otherwise why not, as the end of "skipped, ...".</summary>
    string? WhyNot(ITrainingMethod method, ITask task, RunConfig config);

    object Run(ProbeContext context);

    /// <summary>Columns of the results table (compare, curve, run, train); none for a probe the table does not show.</summary>
    IReadOnlyList<ProbeColumn> Columns => [];

    /// <summary>Columns of report.md's table.</summary>
    IReadOnlyList<ReportColumn> ReportColumns => [];

    /// <summary>What report.md's legend says about this probe's columns; null: nothing.</summary>
    string? ReportLegend => null;

    /// <summary>A section of report.md for the rows that have this probe (markdown), or null.</summary>
    string? ReportSection(IReadOnlyList<ProbeSeries> series) => null;

    /// <summary>A figure for report.md, or null.</summary>
    ProbeFigure? Figure => null;

    /// <summary>Its own table for one result.</summary>
    ProbeTable Describe(object result);
}
