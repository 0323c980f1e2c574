using System.Text.Json.Serialization;
using Registry.Core.Promotions;

namespace Registry.Web.Api;

/// <summary>A resolved version as the REST API answers it: Core's facts and the link to download the artifact.</summary>
public sealed record ServedVersion : ResolvedVersion
{
    /// <summary>Adds the download link to <paramref name="resolved"/>.</summary>
    public ServedVersion(ResolvedVersion resolved) : base(resolved) => Artifact = ApiLinks.Artifact(resolved.Model, resolved.Version);

    /// <summary>Where to download the artifact (its digest is <see cref="ResolvedVersion.Sha256"/>).</summary>
    [JsonPropertyOrder(1)]
    public string Artifact { get; }
}
