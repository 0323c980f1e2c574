using Registry.Core;

namespace Registry.Web.Api;

/// <summary>
/// The one place Web spells the REST API's paths: the locations of what an endpoint created, the
/// links of a problem, the download and export links of the pages. Core names places
/// (<see cref="RegistryLink"/>) and holds facts; this turns them into URLs, so that a second API
/// or the UI is never given another API's advice. The paths match the endpoints' route templates;
/// a test holds them to what ASP.NET's link generator makes of the named endpoints.
/// </summary>
public static class ApiLinks
{
    /// <summary>Where the version 1 API lives.</summary>
    public const string Root = "/api/v1";

    /// <summary>The list of models.</summary>
    public static string Models() => $"{Root}/models";

    /// <summary>One model.</summary>
    public static string Model(string name) => $"{Models()}/{Uri.EscapeDataString(name)}";

    /// <summary>A model's versions; uploads go here too.</summary>
    public static string Versions(string model) => $"{Model(model)}/versions";

    /// <summary>One version.</summary>
    public static string Version(string model, int version) => $"{Versions(model)}/{version}";

    /// <summary>A version's artifact: the bytes to download.</summary>
    public static string Artifact(string model, int version) => $"{Version(model, version)}/artifact";

    /// <summary>A version's latest validation.</summary>
    public static string Validation(string model, int version) => $"{Version(model, version)}/validation";

    /// <summary>A version's metrics.</summary>
    public static string Metrics(string model, int version) => $"{Version(model, version)}/metrics";

    /// <summary>A version's lineage.</summary>
    public static string Lineage(string model, int version) => $"{Version(model, version)}/lineage";

    /// <summary>The version in production, as services poll it.</summary>
    public static string Production(string model) => $"{Model(model)}/stages/production";

    /// <summary>A model's aliases.</summary>
    public static string Aliases(string model) => $"{Model(model)}/aliases";

    /// <summary>A model's stage and alias timeline.</summary>
    public static string History(string model) => $"{Model(model)}/history";

    /// <summary>The promotion requests.</summary>
    public static string Promotions() => $"{Root}/promotions";

    /// <summary>One promotion request.</summary>
    public static string Promotion(long id) => $"{Promotions()}/{id}";

    /// <summary>Withdrawing a promotion request.</summary>
    public static string CancelPromotion(long id) => $"{Promotion(id)}/cancel";

    /// <summary>The caller's own API keys; people create theirs here.</summary>
    public static string Keys() => $"{Root}/keys";

    /// <summary>One API key.</summary>
    public static string Key(long id) => $"{Keys()}/{id}";

    /// <summary>One user account.</summary>
    public static string User(string name) => $"{Root}/users/{Uri.EscapeDataString(name)}";

    /// <summary>The comparison of these versions (<c>model:version</c> references) as CSV, against a baseline if given.</summary>
    public static string CompareCsv(IEnumerable<string> versions, string? baseline) =>
        $"{Root}/compare/csv?versions={Uri.EscapeDataString(string.Join(",", versions))}" +
        (baseline is null ? "" : $"&baseline={Uri.EscapeDataString(baseline)}");

    /// <summary>
    /// What a hint is for a REST caller: its name among a problem's <c>links</c>, the method to use
    /// and the path.
    /// </summary>
    public static (string Name, string Method, string Path) For(RegistryLink link) => link.Relation switch
    {
        LinkRelation.Models => ("models", "GET", Models()),
        LinkRelation.Versions => ("versions", "GET", Versions(Required(link.Model, link))),
        LinkRelation.Aliases => ("aliases", "GET", Aliases(Required(link.Model, link))),
        LinkRelation.Promotions => ("promotions", "GET", Promotions()),
        LinkRelation.CancelPromotion => ("cancel", "POST", CancelPromotion(Required(link.Request, link))),
        LinkRelation.OwnKeys => ("keys", "POST", Keys()),
        _ => throw new ArgumentOutOfRangeException(nameof(link), link.Relation, "No REST route for this relation."),
    };

    private static string Required(string? value, RegistryLink link) =>
        value ?? throw new ArgumentException($"A {link.Relation} link needs its parameter.", nameof(link));

    private static long Required(long? value, RegistryLink link) =>
        value ?? throw new ArgumentException($"A {link.Relation} link needs its parameter.", nameof(link));
}
