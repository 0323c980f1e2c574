namespace Registry.Core.Storage;

/// <summary>One object of an artifact store: its key, its size and when it was last written.</summary>
public sealed record StoredObject(string StorageKey, long SizeBytes, DateTimeOffset LastModified);
