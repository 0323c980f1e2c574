namespace Registry.Core;

/// <summary>
/// News that something changed, sent to every instance: a <see cref="Topic"/> (see <see cref="ChangeTopics"/>),
/// and the model and version it concerns when known (Model null: "something changed, look again").
/// </summary>
public sealed record ChangeNotice(string Topic, string? Model, int Version);
