// Shared types for JSDoc annotations (no build step; editors and tsc --checkJs read this).

export interface Dataset {
  id: string;
  name: string;
  n: number;
  dim: number;
  columns: string[];
  source: 'upload' | 'logdir' | 'demo';
  created: string;
  /** Server extension: column name -> kind. */
  column_types?: Record<string, 'numeric' | 'categorical'>;
  /** Server extension: null when the dataset has no sprite sheet. */
  sprite?: { dim: [number, number] } | null;
  /** Logdir datasets: run, tensor and training step. */
  run?: string;
  tensor_name?: string;
  step?: number | null;
  /** Logdir datasets: shared by the same tensor across the steps of a run. */
  sequence?: string;
  has_bookmarks?: boolean;
}

/** A TensorBoard bookmark (saved view); only the fields the page uses. */
export interface Bookmark {
  label?: string;
  selectedPoints?: number[];
  selectedColorOptionName?: string;
  [key: string]: any;
}

export interface Projection {
  id: string;
  dataset: string;
  method: 'pca' | 'tsne' | 'umap' | string;
  dims: 2 | 3;
  params: Record<string, any>;
  status: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  progress: number;
  iteration: number | null;
  error: string | null;
  quality: number | Record<string, number> | null;
  explained_variance_ratio?: number[];
  explained_variance_ratio_all?: number[];
}

export interface ColumnInfo {
  name: string;
  kind: 'numeric' | 'categorical';
  cardinality?: number;
  min?: number;
  max?: number;
  missing?: number;
}

export interface CameraState {
  dims: 2 | 3;
  /** Point the camera orbits around (3D) or looks at (2D), in normalized space. */
  target: number[];
  /** 3D: distance from the target. */
  distance: number;
  /** 3D: rotation around the vertical axis, radians. */
  yaw: number;
  /** 3D: elevation, radians. */
  pitch: number;
  /** 2D: magnification. */
  zoom: number;
}
