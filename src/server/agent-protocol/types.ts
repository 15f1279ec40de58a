/** Agent Protocol v1 wire objects (AI-Engineer-Foundation/agent-protocol, schemas/openapi.yml). */
export interface Artifact {
  artifact_id: string;
  agent_created: boolean;
  file_name: string;
  relative_path: string | null;
  created_at: string;
  modified_at: string;
}

export interface Task {
  task_id: string;
  input: string | null;
  additional_input: Record<string, unknown>;
  created_at: string;
  modified_at: string;
  artifacts: Artifact[];
}

export interface Step {
  task_id: string;
  step_id: string;
  name: string | null;
  status: 'created' | 'running' | 'completed';
  input: string | null;
  additional_input: Record<string, unknown>;
  output: string | null;
  additional_output: Record<string, unknown>;
  artifacts: Artifact[];
  is_last: boolean;
  created_at: string;
  modified_at: string;
  executed_at: string | null;
}

/** A protocol error: the status and the `{ message }` body the spec gives, with any headers it needs (`Allow`). */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}
