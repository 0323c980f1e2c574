namespace Registry.Core.Storage;

/// <summary>A staged reference tensor: which kind it is and its bytes.</summary>
public sealed record StagedReference(Catalog.ReferenceKind Kind, StagedArtifact File);
